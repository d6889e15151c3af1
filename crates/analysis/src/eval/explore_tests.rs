//! Exploring code the result does not reach (`Evaluator::force_all`), seen through the checks
//! its references feed.

use expect_test::expect;

use crate::tests::{check, with_flake};

#[test]
fn a_counter_loop_in_unused_code_is_unrolled_a_little_then_explored_as_unknown() {
    // `go` counts up to the length of an unknown string. Exploring enters it with the known
    // counters 0, 1, 2, … only so often; the turns left out are explored with an Unknown
    // counter, so the branch only turn 40 takes is still read: `m40` is imported there.
    let out = check(&with_flake(
        r#"#- /modules/defs.nix
{ flake.modules.nixos.m40 = { }; flake.modules.darwin.d = { }; }
#- /modules/loop.nix
{ config, ... }:
let
  refs = s:
    let
      go = i: if i == builtins.stringLength s then [ ]
        else (if i == 40 then [ config.flake.modules.nixos.m40 ] else [ ]) ++ go (i + 1);
    in go 0;
in
{ flake.lib.refs = refs; }
"#,
    ));
    expect![[r#"
        module/unused modules/defs.nix:1:55: `flake.modules.darwin.d` is defined but nothing in this flake imports it.
    "#]]
    .assert_eq(&out);
}
