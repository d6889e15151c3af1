//! The analyzer must return diagnostics, never panic or hang, on any input: random bytes,
//! invalid UTF-8, empty files, pathological nesting and recursion, and token soup.

use std::sync::Arc;

use infra_check_analysis::disk::{DiskTree, EntryKind};
use infra_check_analysis::AnalysisHost;

const FLAKE: &str = r#"{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
"#;

fn check(files: &[(&str, String)]) -> usize {
    let mut host = AnalysisHost::new("/robust".into());
    let mut disk = DiskTree::default();
    let mut texts = vec![("flake.nix".to_owned(), Arc::<str>::from(FLAKE))];
    disk.insert("flake.nix".into(), EntryKind::File);
    for (p, t) in files {
        texts.push((p.to_string(), Arc::from(t.as_str())));
        disk.insert(p.to_string(), EntryKind::File);
    }
    host.set_files(texts);
    host.set_disk(disk);
    let a = host.snapshot();
    a.prime().expect("not cancelled");
    a.diagnostics().expect("not cancelled").len()
}

/// xorshift64*: deterministic, so a failure is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ";",
    ":",
    "=",
    ".",
    ",",
    "?",
    "@",
    "...",
    "let",
    "in",
    "with",
    "rec",
    "inherit",
    "if",
    "then",
    "else",
    "assert",
    "or",
    "//",
    "++",
    "+",
    "-",
    "*",
    "/",
    "==",
    "!=",
    "<",
    "&&",
    "||",
    "->",
    "!",
    "x",
    "y",
    "f",
    "config",
    "inputs",
    "self",
    "lib",
    "flake",
    "modules",
    "nixos",
    "darwin",
    "homeManager",
    "imports",
    "clan",
    "machines",
    "inventory",
    "machineClass",
    "home-manager",
    "users",
    "\"s\"",
    "\"${x}\"",
    "''a ${y} ''",
    "./p.nix",
    "../q",
    "1",
    "2.5",
    "true",
    "null",
    "builtins",
    "map",
    "import",
    "mkIf",
    "mkMerge",
    "genAttrs",
    "${",
    "__functor",
    "_type",
    "\"darwin\"",
    "x: x",
    "{ a, ... }:",
    "a.b.c",
    "config.flake.modules",
];

#[test]
fn token_soup_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..300 {
        let n = 5 + (rng.next() % 120) as usize;
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(rng.pick(TOKENS));
            text.push(' ');
        }
        let body = if round % 2 == 0 {
            text
        } else {
            // Half the rounds wrap the soup in a module shape so evaluation goes deeper.
            format!("{{ config, inputs, lib, ... }}: {{ flake.modules.nixos.a = {{ imports = [ {text} ]; }}; x = {text}; }}")
        };
        check(&[("modules/soup.nix", body)]);
    }
}

#[test]
fn random_bytes_invalid_utf8_and_empty_files_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..50 {
        let len = (rng.next() % 400) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = infra_check_analysis::loader::decode(bytes);
        check(&[("modules/bytes.nix", text.to_string())]);
    }
    let invalid = infra_check_analysis::loader::decode(vec![b'{', 0xff, 0xfe, b'}', 0xc3]);
    assert!(invalid.contains('\u{fffd}'));
    check(&[
        ("modules/invalid.nix", invalid.to_string()),
        ("modules/empty.nix", String::new()),
    ]);
}

#[test]
fn pathological_programs_terminate() {
    let programs = [
        "let x = [ x ]; in x == x",
        "let x = { a = x; }; in x == x",
        "let f = n: f (n + 1); in f 0",
        "let f = x: [ (f x) ]; in builtins.toJSON (f 1)",
        "rec { a = b; b = a; }.a",
        "let l = builtins.genList (i: i) 100000; in builtins.foldl' (a: b: a + b) 0 l",
        "let x = x; in x",
        "builtins.genList (i: builtins.genList (j: j) 1000) 1000",
        "{ config, ... }: let m = config.flake.modules.nixos; f = n: if n == 0 then [ ] else [ m.a ] ++ f (n - 1); in { flake.modules.nixos.b.imports = f 100000; }",
    ];
    for p in programs {
        check(&[("modules/p.nix", p.to_owned())]);
        let _ = infra_check_analysis::eval::eval_standalone(p);
    }
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    check(&[("modules/deep.nix", deep)]);
    let deep_let = format!("{}1", "let a = 1; in ".repeat(5000));
    check(&[("modules/deep-let.nix", deep_let)]);
    // rnix's tokenizer is quadratic on long select chains; 2,000 keeps the test quick.
    let deep_select = format!("x{}", ".a".repeat(2000));
    check(&[("modules/deep-select.nix", deep_select)]);
}
