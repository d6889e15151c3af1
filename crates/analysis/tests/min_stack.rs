//! The analyzer's limits are sized for `stack::MIN_STACK`: on a thread with exactly that stack,
//! every construct nested as deep as the parser accepts, and every evaluation that recurses
//! as deep as the evaluator allows, is analysed without overflowing.

mod common;

use infra_check_analysis::complexity;
use infra_check_analysis::stack::{assume_min_stack, MIN_STACK};

/// Shapes that nest once per repetition: `(open, core, close)` repeated `n` times.
const NESTING: &[(&str, &str, &str)] = &[
    ("(", "1", ")"),
    ("[ ", "1", " ]"),
    ("{ a = ", "1", "; }"),
    ("rec { a = ", "1", "; }"),
    ("\"${", "x", "}\""),
    ("''${", "x", "}''"),
    ("!", "true", ""),
    ("-", "1", ""),
    ("", "[ ]", " ++ [ ]"),
    ("", "{ }", " // { }"),
    ("", "true", " -> true"),
    ("", "1", " + 1"),
    ("", "true", " && true"),
    ("", "{ }", " ? a"),
    ("f ", "1", ""),
    ("x: ", "x", ""),
    ("{ a ? 1 }: ", "a", ""),
    ("let a = 1; in ", "a", ""),
    ("with { }; ", "1", ""),
    ("assert true; ", "1", ""),
    ("if true then ", "1", " else 2"),
    ("a.b or ", "1", ""),
    ("{ imports = [ (", "{ }", ") ]; }"),
    ("lib.mkIf true (", "{ }", ")"),
    (
        "{ config, lib, ... }: { flake.modules.nixos.a = ",
        "{ }",
        "; }",
    ),
];

fn nested(shape: (&str, &str, &str), n: usize) -> String {
    let (open, core, close) = shape;
    format!("{}{core}{}", open.repeat(n), close.repeat(n))
}

/// The deepest nesting of `shape` the parser accepts.
fn deepest(shape: (&str, &str, &str)) -> String {
    let (mut lo, mut hi) = (1, 4 * complexity::MAX_NESTING as usize);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if complexity::check(&nested(shape, mid)).is_ok() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    nested(shape, lo)
}

/// Programs that recurse as deep as evaluation and the walks over values allow.
const RECURSION: &[&str] = &[
    "let f = n: f (n + 1); in f 0",
    "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 100000",
    "let f = n: [ (f (n + 1)) ]; in builtins.toJSON (f 0)",
    "let x = [ x ]; y = [ y ]; in [ (x == y) (builtins.toJSON x) (builtins.deepSeq x 1) (builtins.toString x) (x < y) ]",
    "let f = n: builtins.map f [ (n + 1) ]; in builtins.toJSON (f 0)",
    "let f = n: builtins.foldl' (a: b: f b) 0 [ (n + 1) ]; in f 0",
    "let f = n: builtins.filter (x: f x == [ ]) [ n ]; in f 0",
    "let f = n: builtins.concatMap (x: [ (f x) ]) [ n ]; in builtins.deepSeq (f 0) 1",
    "let f = n: builtins.mapAttrs (k: v: f v) { a = n; }; in builtins.toJSON (f 0)",
    "let f = n: \"${f n}\"; in f 0",
    "let f = n: (f n) // { }; in f 0",
    "let f = n: (f n) ++ [ ]; in f 0",
    "{ lib, ... }: let f = n: [ (f n) ]; in { x = lib.flatten (f 0); y = lib.unique [ (f 0) (f 1) ]; }",
    "{ lib, ... }: let f = n: lib.genAttrs [ \"a\" ] (k: f n); in { x = builtins.toJSON (f 0); }",
    "{ lib, ... }: let m = lib.mkMerge [ m m ]; in { flake.modules.nixos.q = m; config = m; }",
    "{ lib, ... }: let x = { a = x; b = x; }; in { fleet = x; flake.modules.nixos.q = { fleet = x; }; }",
    "{ ... }: let m = { imports = [ m m ]; clan.core.vars.generators.g.files.f = { }; }; in { flake.modules.nixos.a = m; clan.machines.x = m; }",
    "{ ... }: let i = { roles.r.machines.m = i; imports = [ i ]; }; in { clan.inventory.instances.a = i; clan.inventory.machines.m = { }; clan = i; }",
    "{ lib, ... }: let t = lib.types.listOf (lib.types.either t (lib.types.submodule { options.x = lib.mkOption { type = t; }; })); in { options.q = lib.mkOption { type = t; }; flake.modules.nixos.q = { options.z = lib.mkOption { type = t; }; config.z = [ [ [ [ 1 ] ] ] ]; }; }",
    "{ lib, ... }: let f = n: lib.types.submodule { options.x = lib.mkOption { type = f n; }; }; in { flake.modules.nixos.q = { options.z = lib.mkOption { type = f 0; }; }; }",
];

fn analyse(text: String) -> usize {
    let a = common::host(vec![("modules/deep.nix".into(), text.clone())]).snapshot();
    a.prime().expect("not cancelled");
    let n = a.diagnostics().expect("not cancelled").len();
    let _ = infra_check_analysis::eval::eval_standalone(&text);
    n
}

#[test]
fn the_deepest_accepted_inputs_fit_in_the_minimum_stack() {
    let mut programs: Vec<String> = NESTING.iter().map(|s| deepest(*s)).collect();
    programs.extend(RECURSION.iter().map(|p| p.to_string()));
    // Recursion inside the deepest accepted nesting adds up.
    programs.push(format!(
        "{}let f = n: [ (f (n + 1)) ]; in builtins.toJSON (f 0){}",
        "(".repeat(400),
        ")".repeat(400)
    ));
    let done = std::thread::Builder::new()
        .name("exactly-min-stack".into())
        .stack_size(MIN_STACK)
        .spawn(move || {
            // The analysis runs on this very thread, not on one it would start itself.
            assume_min_stack();
            for p in programs {
                analyse(p);
            }
        })
        .expect("the thread starts")
        .join();
    assert!(done.is_ok(), "the analysis panicked");
}

#[test]
fn just_past_the_limit_the_file_is_refused_not_parsed() {
    for &shape in NESTING {
        let text = deepest(shape);
        let (open, _, close) = shape;
        let deeper = format!("{open}{text}{close}");
        assert!(
            complexity::check(&deeper).is_err(),
            "one more level of `{open}…{close}` is still accepted"
        );
    }
}
