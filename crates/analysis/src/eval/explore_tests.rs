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

/// A flake whose `flake.lib.refs` counts up to the length of an unknown string, naming the
/// module `m<i>` on every turn with `turn`, and whose `host` imports what `imports` says.
fn counter_loop(turn: &str, imports: &str) -> String {
    with_flake(&format!(
        r#"#- /modules/defs.nix
{{ flake.modules.nixos.m0 = {{ }}; flake.modules.nixos.m1 = {{ }}; }}
#- /modules/loop.nix
{{ config, lib, inputs, ... }}:
let
  refs = s:
    let
      go = i: {turn};
    in go 0;
in
{{
  flake.lib.refs = refs;
  flake.modules.nixos.host = {{ imports = {imports}; }};
  flake.nixosConfigurations.host = inputs.nixpkgs.lib.nixosSystem {{
    modules = [ config.flake.modules.nixos.host ];
  }};
}}
"#
    ))
}

#[test]
fn turns_of_a_loop_with_an_unknown_end_name_no_undefined_module() {
    // Nix may stop after any turn (the string may have 2 characters), so `m2`, `m3`, … are
    // only names the loop might build: none is reported, yet `m0` and `m1` count as used.
    let with_if = counter_loop(
        r#"if i == builtins.stringLength s then [ ]
        else [ config.flake.modules.nixos."m${toString i}" ] ++ go (i + 1)"#,
        "[ ]",
    );
    expect![[""]].assert_eq(&check(&with_if));
    let with_optionals = counter_loop(
        r#"lib.optionals (i < builtins.stringLength s)
        ([ config.flake.modules.nixos."m${toString i}" ] ++ go (i + 1))"#,
        "[ ]",
    );
    expect![[""]].assert_eq(&check(&with_optionals));
}

#[test]
fn a_module_named_on_one_branch_of_an_unknown_condition_is_used_but_not_undefined() {
    // Either branch may be the one taken; the other may name a module only some checkouts
    // define. What either names is used (`m1` is not unused), neither is reported undefined.
    let out = check(&counter_loop(
        "[ ]",
        r#"[ (if builtins.pathExists ./extra then config.flake.modules.nixos.extra
              else config.flake.modules.nixos.m1)
            (config.flake.modules.nixos.gone or config.flake.modules.nixos.m0) ]
          ++ lib.optional (builtins.pathExists ./more) config.flake.modules.nixos.more"#,
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn a_reached_reference_to_an_undefined_module_is_still_reported() {
    // The same repository, with references that are evaluated (or would be, whenever their
    // code runs): an import of the host, a function body, the branch a known `if` takes, and
    // the turns of a loop whose end is known.
    let out = check(
        &(counter_loop(
            r#"if i == 3 then [ ]
        else [ config.flake.modules.nixos."m${toString i}" ] ++ go (i + 1)"#,
            r#"[ config.flake.modules.nixos.m7
            (if true then config.flake.modules.nixos.taken else config.flake.modules.nixos.m1) ]"#,
        ) + r#"#- /modules/fn.nix
{ config, ... }: { flake.lib.pick = x: [ x config.flake.modules.nixos.typo ]; }
#- /modules/known.nix
{ config, ... }:
let
  go = i: if i == 3 then [ ] else [ config.flake.modules.nixos."k${toString i}" ] ++ go (i + 1);
in { flake.modules.nixos.k0 = { }; flake.modules.nixos.k1 = { }; flake.lib.ks = go 0; }
"#),
    );
    expect![[r#"
        module/undefined modules/fn.nix:1:71: `flake.modules.nixos.typo` is not defined: no module in this flake defines a NixOS module named `typo`.
        module/undefined modules/known.nix:3:64: `flake.modules.nixos.k2` is not defined: no module in this flake defines a NixOS module named `k2`; did you mean `k0`?
          note modules/known.nix:4:26: `flake.modules.nixos.k0` is defined here
        module/undefined modules/loop.nix:6:43: `flake.modules.nixos.m2` is not defined: no module in this flake defines a NixOS module named `m2`; did you mean `m0`?
          note modules/defs.nix:1:23: `flake.modules.nixos.m0` is defined here
        module/undefined modules/loop.nix:11:71: `flake.modules.nixos.m7` is not defined: no module in this flake defines a NixOS module named `m7`; did you mean `m0`?
          note modules/defs.nix:1:23: `flake.modules.nixos.m0` is defined here
          fix: "m0"
        module/undefined modules/loop.nix:12:54: `flake.modules.nixos.taken` is not defined: no module in this flake defines a NixOS module named `taken`.
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_function_made_on_an_unknown_branch_and_for_sure_is_explored_for_sure() {
    // The lambda `mk` returns is made first on the branch of an unknown `if` (`early`), then
    // for sure (`late`, and `mk`'s own body): it is code that runs whenever it is called, so
    // the undefined module it names is reported.
    let out = check(&with_flake(
        r#"#- /modules/fn.nix
{ config, ... }:
let
  mk = _: (x: config.flake.modules.nixos.typo);
  early = if builtins.pathExists ./a then mk 1 else null;
  late = [ (mk 2) ];
in
{ }
"#,
    ));
    expect![[r#"
        module/undefined modules/fn.nix:3:42: `flake.modules.nixos.typo` is not defined: no module in this flake defines a NixOS module named `typo`.
    "#]]
    .assert_eq(&out);
}
