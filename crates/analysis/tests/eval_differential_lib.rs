//! Differential tests of the partial evaluator against real Nix, for what
//! `eval_differential.rs` cannot reach: nixpkgs' `lib` and files read from disk.
//!
//! Every case in [`CASES`] is evaluated twice, in a scratch copy of `tests/eval_lib/`:
//!
//! * by `nix-instantiate --eval --strict --json -E <expr>` (Debian package `nix-bin`, which has
//!   no nixpkgs), run with that copy as the working directory, a scratch HOME/XDG environment,
//!   an empty `NIX_PATH` and `--readonly-mode`. For [`Scope::Lib`] cases the expression is
//!   `({ lib, ... }: <expr>) { lib = import ./lib.nix; }`, where `tests/eval_lib/lib.nix` is a
//!   small stand-in for nixpkgs' `lib` implementing the functions the evaluator models, with
//!   nixpkgs' documented behaviour;
//! * by `infra_check_analysis::eval::eval_in_dir(copy, expr, with_lib)`, which evaluates the
//!   expression as the file `<copy>/expr.nix` and, for [`Scope::Lib`], binds `lib` to the
//!   evaluator's own model of nixpkgs' `lib`.
//!
//! [`Expect`] means what it means in `eval_differential.rs`: `Value` — nix prints this JSON and
//! the evaluator must return it; `Error` — nix fails and the evaluator must return `None`;
//! `NoneOrValue` — nix succeeds and the evaluator returns `None` or exactly nix's value. All
//! disagreements are collected and reported in one assertion failure.
//!
//! When `nix-instantiate` is missing the tests print a skip message and pass, unless
//! `INFRA_CHECK_REQUIRE_TOOLS=1` is set, in which case they fail. `NIX_INSTANTIATE=/path`
//! selects a specific binary.
//!
//! Run: `cargo test -p infra-check-analysis --test eval_differential_lib -- --nocapture`

use std::path::Path;

mod differential;

use differential::{run_isolated, Expect, Nix, OursOutcome, Verdicts};
use serde_json::Value;

use Expect::{Error, NoneOrValue, Value as V};

/// What the expression sees besides the files of `tests/eval_lib/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scope {
    /// `lib` is bound: nixpkgs' `lib` (for nix, the stand-in `lib.nix`).
    Lib,
    /// Nothing but the builtins.
    Plain,
}

const L: Scope = Scope::Lib;
const P: Scope = Scope::Plain;

type Case = (Scope, &'static str, Expect);

/// The directory copied into the scratch directory of every run.
const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eval_lib");

#[rustfmt::skip]
static CASES: &[Case] = &[
    // ---------------------------------------------------------------- module-system wrappers
    (L, r#"lib.mkDefault "darwin""#, V(r#"{"_type":"override","content":"darwin","priority":1000}"#)),
    (L, "lib.mkForce [ 1 ]", V(r#"{"_type":"override","content":[1],"priority":50}"#)),
    (L, "lib.mkOverride 900 { a = 1; }", V(r#"{"_type":"override","content":{"a":1},"priority":900}"#)),
    (L, "lib.mkIf true { a = 1; }", V(r#"{"_type":"if","condition":true,"content":{"a":1}}"#)),
    (L, r#"(lib.mkIf false { a = throw "lazy"; }).condition"#, V("false")),
    // nixpkgs checks the condition only when the module system merges, not here.
    (L, r#"(lib.mkIf 1 "x").condition"#, V("1")),
    (L, "lib.mkMerge [ { a = 1; } { b = 2; } ]", V(r#"{"_type":"merge","contents":[{"a":1},{"b":2}]}"#)),
    (L, r#"[ (lib.mkBefore [ "x" ]) (lib.mkAfter "y") ]"#,
        V(r#"[{"_type":"order","content":["x"],"priority":500},{"_type":"order","content":"y","priority":1500}]"#)),
    (L, "lib.mkMerge [ (lib.mkIf true { a = 1; }) (lib.mkDefault { b = 2; }) ]",
        V(r#"{"_type":"merge","contents":[{"_type":"if","condition":true,"content":{"a":1}},{"_type":"override","content":{"b":2},"priority":1000}]}"#)),
    (L, "lib.modules.mkIf true 1", V(r#"{"_type":"if","condition":true,"content":1}"#)),
    (L, r#"builtins.listToAttrs (map (n: { name = n; value = lib.mkDefault n; }) [ "b" "a" ])"#,
        V(r#"{"a":{"_type":"override","content":"a","priority":1000},"b":{"_type":"override","content":"b","priority":1000}}"#)),
    (L, "{ services.ssh = lib.mkIf (1 < 2) { enable = lib.mkForce true; }; }",
        V(r#"{"services":{"ssh":{"_type":"if","condition":true,"content":{"enable":{"_type":"override","content":true,"priority":50}}}}}"#)),
    (L, r#"[ (lib.mkDefault "x")._type (lib.mkForce 1).priority (lib.mkMerge [ ])._type ]"#,
        V(r#"["override",50,"merge"]"#)),
    (L, r#"lib.mkMerge (map (n: { ${n} = lib.mkDefault true; }) [ "a" "b" ])"#,
        V(r#"{"_type":"merge","contents":[{"a":{"_type":"override","content":true,"priority":1000}},{"b":{"_type":"override","content":true,"priority":1000}}]}"#)),
    (L, r#"lib.mkIf false { a = throw "forced by --strict"; }"#, Error),
    (L, "lib.modules.mkOverride 10 (lib.modules.mkDefault 1)",
        V(r#"{"_type":"override","content":{"_type":"override","content":1,"priority":1000},"priority":10}"#)),
    // Not modelled by the evaluator.
    (L, r#"lib.mkOrder 10 "x""#, NoneOrValue),
    // ---------------------------------------------------------------- optional*
    (L, "lib.optionalAttrs false { x = 1; }", V("{}")),
    (L, "lib.optionalAttrs true { x = 1; }", V(r#"{"x":1}"#)),
    (L, r#"lib.optionals (1 < 2) [ "x" ]"#, V(r#"["x"]"#)),
    (L, r#"lib.optionals false [ (throw "lazy") ]"#, V("[]")),
    (L, r#"lib.optional true "a" ++ lib.optional false "b""#, V(r#"["a"]"#)),
    (L, r#"lib.optionalString true "s" + lib.optionalString false "t""#, V(r#""s""#)),
    (L, r#"{ a = 1; } // lib.optionalAttrs (builtins.elem "x" [ "x" ]) { b = 2; }"#, V(r#"{"a":1,"b":2}"#)),
    (L, r#"lib.optionalString true 1"#, V("1")),
    (L, "[ (lib.lists.optional true 1) (lib.lists.optionals true [ 2 ]) (lib.attrsets.optionalAttrs false { }) ]",
        V("[[1],[2],{}]")),
    (L, r#"lib.optional 1 "a""#, Error),
    (L, r#"lib.optionalAttrs null { }"#, Error),
    // ---------------------------------------------------------------- genAttrs
    (L, r#"lib.genAttrs [ "a" "b" ] (n: { tags = [ n ]; })"#, V(r#"{"a":{"tags":["a"]},"b":{"tags":["b"]}}"#)),
    (L, r#"builtins.attrNames (lib.genAttrs [ "z" "a" "m" ] (n: throw "lazy"))"#, V(r#"["a","m","z"]"#)),
    (L, "lib.genAttrs [ ] (n: n)", V("{}")),
    (L, r#"lib.genAttrs [ "a" "a" ] (n: n)"#, V(r#"{"a":"a"}"#)),
    (L, r#"lib.attrsets.genAttrs [ "x" ] (n: n + n)"#, V(r#"{"x":"xx"}"#)),
    (L, "lib.genAttrs [ 1 ] (n: n)", Error),
    // ---------------------------------------------------------------- mapAttrsToList, filterAttrs
    (L, r#"lib.mapAttrsToList (n: v: n + v) { a = "1"; b = "2"; }"#, V(r#"["a1","b2"]"#)),
    (L, "lib.mapAttrsToList (name: m: { inherit name; n = builtins.length m.tags; }) { web = { tags = [ 1 2 ]; }; db = { tags = [ ]; }; }",
        V(r#"[{"n":0,"name":"db"},{"n":2,"name":"web"}]"#)),
    (L, r#"builtins.length (lib.mapAttrsToList (n: v: throw "lazy") { a = 1; b = 2; })"#, V("2")),
    (L, "lib.filterAttrs (n: v: v > 1) { a = 1; b = 2; }", V(r#"{"b":2}"#)),
    (L, r#"lib.filterAttrs (n: v: lib.hasPrefix "web" n) { web1 = 1; web2 = 2; db = 3; }"#, V(r#"{"web1":1,"web2":2}"#)),
    (L, r#"lib.filterAttrs (n: v: builtins.elem "prod" v.tags) { a = { tags = [ "prod" ]; }; b = { tags = [ ]; }; }"#,
        V(r#"{"a":{"tags":["prod"]}}"#)),
    (L, "lib.attrsets.filterAttrs (n: v: v != null) { a = null; b = 1; }", V(r#"{"b":1}"#)),
    (L, "lib.filterAttrs (n: v: false) { }", V("{}")),
    (L, "lib.filterAttrs (n: v: 1) { a = 1; }", Error),
    (L, "lib.mapAttrsToList (n: v: v) [ ]", Error),
    // ---------------------------------------------------------------- strings
    (L, r#"lib.hasInfix "/legacy/" "/a/legacy/b.nix""#, V("true")),
    (L, r#"[ (lib.hasInfix "" "") (lib.hasInfix "abc" "ab") (lib.hasInfix "é" "café") (lib.strings.hasInfix "b" "abc") ]"#,
        V("[true,false,true,true]")),
    (L, r#"lib.strings.hasPrefix "foo" "foobar""#, V("true")),
    (L, r#"[ (lib.hasPrefix "" "x") (lib.hasPrefix "xy" "x") (lib.hasSuffix ".nix" "a.nix") (lib.hasSuffix "a" "") (lib.strings.hasSuffix "" "") ]"#,
        V("[true,false,true,false,true]")),
    (L, r#"builtins.filter (lib.hasSuffix ".nix") [ "a.nix" "b.json" "c.nix" ]"#, V(r#"["a.nix","c.nix"]"#)),
    (L, r#"lib.strings.optionalString (lib.hasInfix "x" "xyz") "found""#, V(r#""found""#)),
    (L, r#"lib.concatStringsSep ", " (lib.mapAttrsToList (n: v: "${n}=${toString v}") { a = 1; b = 2; })"#,
        V(r#""a=1, b=2""#)),
    (L, r#"lib.replaceStrings [ "." ] [ "-" ] "a.b.c""#, V(r#""a-b-c""#)),
    (L, r#"[ (lib.toString [ 1 "a" ]) (lib.strings.substring 0 3 (lib.toString 12345)) (lib.stringLength "abc") ]"#,
        V(r#"["1 a","123",3]"#)),
    (L, r#"lib.hasPrefix 1 "x""#, Error),
    (L, r#"lib.hasSuffix "x" null"#, Error),
    // ---------------------------------------------------------------- lists
    (L, "lib.flatten [ 1 [ 2 [ 3 ] ] ]", V("[1,2,3]")),
    (L, r#"lib.flatten [ [ ] [ [ ] ] "a" ]"#, V(r#"["a"]"#)),
    (L, "lib.unique [ 1 2 1 ]", V("[1,2]")),
    (L, r#"lib.unique [ "b" "a" "b" { x = 1; } { x = 1; } ]"#, V(r#"["b","a",{"x":1}]"#)),
    (L, r#"lib.lists.unique (lib.flatten [ [ "a" "b" ] [ "b" "c" ] ])"#, V(r#"["a","b","c"]"#)),
    (L, "lib.unique [ ]", V("[]")),
    (L, "lib.lists.flatten (map (n: [ n n ]) [ 1 2 ])", V("[1,1,2,2]")),
    (L, "lib.length (lib.filter (x: x > 2) [ 1 2 3 4 ])", V("2")),
    (L, r#"lib.foldl' (acc: n: acc // { ${n} = lib.length (lib.attrNames acc); }) { } [ "a" "b" ]"#,
        V(r#"{"a":0,"b":1}"#)),
    (L, r#"lib.genList (i: "m${toString i}") 3"#, V(r#"["m0","m1","m2"]"#)),
    (L, r#"[ (lib.any (x: x == 2) [ 1 2 ]) (lib.all lib.isString [ "a" 1 ]) ]"#, V("[true,false]")),
    (L, r#"lib.concatMap (n: [ n "${n}-backup" ]) [ "a" "b" ]"#, V(r#"["a","a-backup","b","b-backup"]"#)),
    (L, "[ (lib.concatLists [ [ 1 ] [ 2 ] ]) (lib.tail [ 1 2 3 ]) (lib.head [ 4 ]) (lib.elemAt [ 5 6 ] 1) ]",
        V("[[1,2],[2,3],4,6]")),
    (L, r#"[ (lib.lists.elem "x" [ "x" ]) (lib.elem 3 [ 1 2 ]) ]"#, V("[true,false]")),
    (L, "map (x: x * 10) [ 1 2 ]", V("[10,20]")),
    (L, "lib.elemAt [ ] 0", Error),
    (L, "lib.head [ ]", Error),
    (L, r#"lib.unique [ 1 (throw "x") ]"#, Error),
    // nixpkgs flattens a non-list into a one-element list; the evaluator does not say.
    (L, "lib.flatten 1", NoneOrValue),
    // The list function of this name, not the string one.
    (L, "lib.lists.hasPrefix [ 1 ] [ 1 2 ]", NoneOrValue),
    // ---------------------------------------------------------------- attrset builtins through lib
    (L, r#"lib.attrNames (lib.genAttrs [ "b" "a" ] (n: null))"#, V(r#"["a","b"]"#)),
    (L, "lib.attrValues { b = 1; a = 2; }", V("[2,1]")),
    (L, r#"lib.mapAttrs (n: v: v.tags) { a = { tags = [ "x" ]; }; }"#, V(r#"{"a":["x"]}"#)),
    (L, r#"lib.removeAttrs { a = 1; b = 2; } [ "a" ]"#, V(r#"{"b":2}"#)),
    (L, "lib.intersectAttrs { a = null; } { a = 1; b = 2; }", V(r#"{"a":1}"#)),
    (L, r#"lib.catAttrs "tags" [ { tags = [ 1 ]; } { } { tags = [ 2 ]; } ]"#, V("[[1],[2]]")),
    (L, r#"lib.listToAttrs [ { name = "x"; value = 1; } ]"#, V(r#"{"x":1}"#)),
    (L, r#"[ (lib.hasAttr "a" { a = 1; }) (lib.getAttr "a" { a = 2; }) (lib.attrsets.hasAttr "b" { }) ]"#,
        V("[true,2,false]")),
    (L, r#"[ (lib.isAttrs { }) (lib.isList [ ]) (lib.isInt 1) (lib.isBool true) (lib.isFunction lib.mkIf) (lib.isString "") (lib.isInt "1") ]"#,
        V("[true,true,true,true,true,true,false]")),
    (L, r#"lib.fromJSON "{\"a\":[1,null]}""#, V(r#"{"a":[1,null]}"#)),
    (L, "lib.toJSON (lib.mkDefault 1)", V(r#""{\"_type\":\"override\",\"content\":1,\"priority\":1000}""#)),
    (L, r#"lib.getAttr "z" { }"#, Error),
    // ---------------------------------------------------------------- `with lib`, `inherit (lib)`
    (L, r#"with lib; mkIf (length [ 1 ] == 1) (genAttrs [ "a" ] (n: n))"#,
        V(r#"{"_type":"if","condition":true,"content":{"a":"a"}}"#)),
    (L, r#"with lib; optionals true (flatten [ [ "a" ] ])"#, V(r#"["a"]"#)),
    (L, "with lib; map (x: x + 1) [ 1 ]", V("[2]")),
    (L, "let inherit (lib) mkDefault mkForce; in [ (mkDefault 1) (mkForce 2) ]",
        V(r#"[{"_type":"override","content":1,"priority":1000},{"_type":"override","content":2,"priority":50}]"#)),
    (L, r#"let inherit (lib.strings) hasPrefix; in hasPrefix "a" "ab""#, V("true")),
    (L, "let lib = { mkIf = c: x: 5; }; in lib.mkIf true 1", V("5")),
    (L, "with lib; notALibFunction 1", Error),
    (L, "lib.notALibFunction", Error),
    (P, "lib.mkIf true 1", Error),
    // ---------------------------------------------------------------- chains, as inventories write them
    (L, r#"builtins.filter (m: m != "x") (builtins.attrNames { x = 1; y = 2; z = 3; })"#, V(r#"["y","z"]"#)),
    (L, r#"builtins.attrNames (lib.genAttrs [ "web" "db" ] (n: { }))"#, V(r#"["db","web"]"#)),
    (L, r#"lib.mapAttrsToList (n: v: v.content) (lib.genAttrs [ "a" "b" ] lib.mkDefault)"#, V(r#"["a","b"]"#)),
    (L, r#"lib.filterAttrs (n: v: v._type == "override") { a = lib.mkDefault 1; b = lib.mkIf true 2; }"#,
        V(r#"{"a":{"_type":"override","content":1,"priority":1000}}"#)),
    (L, r#"lib.genAttrs [ "a" "b" ] (n: { tags = [ "all" ] ++ lib.optional (n == "a") "first"; machineClass = lib.mkDefault "nixos"; })"#,
        V(r#"{"a":{"machineClass":{"_type":"override","content":"nixos","priority":1000},"tags":["all","first"]},"b":{"machineClass":{"_type":"override","content":"nixos","priority":1000},"tags":["all"]}}"#)),
    (L, r#"lib.concatStringsSep " " (lib.unique (lib.flatten (lib.mapAttrsToList (n: v: v) { a = [ "x" "y" ]; b = [ [ "y" ] "z" ]; })))"#,
        V(r#""x y z""#)),
    // ---------------------------------------------------------------- options and types
    (L, r#"(lib.mkOption { type = lib.types.str; default = "x"; })._type"#, V(r#""option""#)),
    (L, r#"builtins.attrNames (lib.mkOption { type = lib.types.str; default = "x"; })"#, V(r#"["_type","default","type"]"#)),
    (L, "(lib.mkOption { default = [ 1 ]; }).default", V("[1]")),
    (L, r#"[ (lib.mkEnableOption "ssh").default (lib.mkEnableOption "ssh")._type (lib.options.mkEnableOption "x").type.name ]"#,
        V(r#"[false,"option","bool"]"#)),
    (L, r#"(lib.mkEnableOption "ssh").description"#, NoneOrValue),
    (L, r#"map (t: t._type) [ lib.types.str (lib.types.listOf lib.types.int) (lib.types.attrsOf lib.types.bool) (lib.types.nullOr lib.types.str) (lib.types.enum [ "a" ]) ]"#,
        V(r#"["option-type","option-type","option-type","option-type","option-type"]"#)),
    (L, "map (t: t.name) [ lib.types.str lib.types.bool lib.types.int (lib.types.listOf lib.types.str) (lib.types.attrsOf lib.types.anything) (lib.types.nullOr lib.types.path) ]",
        V(r#"["str","bool","int","listOf","attrsOf","nullOr"]"#)),
    (L, "[ (lib.types.str ? _type) (lib.types.submodule { })._type ]", V(r#"[true,"option-type"]"#)),
    (L, "lib.mkOption 1", Error),
    (L, r#"lib.filterAttrs (n: v: n == "a") { a = 1; b = throw "lazy"; }"#, V(r#"{"a":1}"#)),
    (L, r#"builtins.attrNames (lib.filterAttrs (n: v: true) { b = throw "lazy"; })"#, V(r#"["b"]"#)),
    (L, r#"let f = lib.hasPrefix "a"; in map f [ "ab" "b" ]"#, V("[true,false]")),
    (L, "map (lib.mkIf true) [ 1 ]", V(r#"[{"_type":"if","condition":true,"content":1}]"#)),
    (L, "lib.mkMerge 1", V(r#"{"_type":"merge","contents":1}"#)),
    (L, r#"lib.optionalString false (throw "lazy")"#, V(r#""""#)),
    (L, "[ (lib.mkDefault 1 == lib.mkDefault 1) (lib.mkIf true 1 == { _type = \"if\"; condition = true; content = 1; }) ]",
        V("[true,true]")),
    (L, "lib.unique [ 1 1.0 2 ]", V("[1,2]")),
    (L, "lib.flatten [ { a = [ 1 ]; } [ null ] ]", V(r#"[{"a":[1]},null]"#)),
    (L, "builtins.mapAttrs (n: v: lib.mkForce v) { a = 1; }", V(r#"{"a":{"_type":"override","content":1,"priority":50}}"#)),
    (L, r#"lib.flatten [ (throw "x") ]"#, Error),
    (L, "lib.genList (i: i) (-1)", Error),
    (L, "lib 1", Error),
    (L, "[ (lib ? mkIf) (builtins.isAttrs lib) ]", NoneOrValue),
    (L, "map (t: t._type) [ (lib.types.either lib.types.str lib.types.int) (lib.types.lazyAttrsOf lib.types.str) ]",
        V(r#"["option-type","option-type"]"#)),
    // ---------------------------------------------------------------- files: JSON
    (P, "builtins.fromJSON (builtins.readFile ./inventory.json)",
        V(r#"{"counts":[1,-2,3000000000,1000,0.0025],"instances":{"borg":{"roles":{"client":{"tags":{"prod":{}}},"server":{"machines":{"db-01":{}}}}}},"machines":{"db-01":{"deploy":{"port":2222,"targetHost":"root@10.0.0.2"},"enabled":false,"notes":null,"tags":["db","prod"],"weight":-0.25},"laptop":{"deploy":{},"enabled":true,"machineClass":"darwin","tags":[],"weight":0},"web-01":{"deploy":{"port":22,"targetHost":"root@10.0.0.1"},"enabled":true,"tags":["web","prod"],"weight":1.5}},"meta":{"description":"Ünïcödé ✓ — 日本語 😀","name":"démo-clan","version":3}}"#)),
    (P, "builtins.attrNames (builtins.fromJSON (builtins.readFile ./inventory.json)).machines",
        V(r#"["db-01","laptop","web-01"]"#)),
    (P, "(builtins.fromJSON (builtins.readFile ./inventory.json)).meta.description", V(r#""Ünïcödé ✓ — 日本語 😀""#)),
    (P, r#"let inv = builtins.fromJSON (builtins.readFile ./inventory.json); in builtins.filter (n: builtins.elem "prod" inv.machines.${n}.tags) (builtins.attrNames inv.machines)"#,
        V(r#"["db-01","web-01"]"#)),
    (L, "let inv = builtins.fromJSON (builtins.readFile ./inventory.json); in lib.mapAttrsToList (n: m: m.deploy.port or 22) inv.machines",
        V("[2222,22,22]")),
    (L, "builtins.attrNames (lib.filterAttrs (n: m: m.enabled) (builtins.fromJSON (builtins.readFile ./inventory.json)).machines)",
        V(r#"["laptop","web-01"]"#)),
    (L, "lib.unique (lib.flatten (lib.mapAttrsToList (n: m: m.tags) (builtins.fromJSON (builtins.readFile ./inventory.json)).machines))",
        V(r#"["db","prod","web"]"#)),
    (P, "(builtins.fromJSON (builtins.readFile ./inventory.json)).counts", V("[1,-2,3000000000,1000,0.0025]")),
    (P, "(builtins.fromJSON (builtins.readFile ./inventory.json)).instances.borg.roles.server.machines",
        V(r#"{"db-01":{}}"#)),
    (P, r#"builtins.readFile (./sub + "/x.json")"#,
        V(r#""{\"hosts\": [\"a\", \"b\"], \"port\": 8080, \"opts\": {\"tls\": true, \"ciphers\": null}}\n""#)),
    (P, r#"builtins.fromJSON (builtins.readFile (./sub + "/x.json"))"#,
        V(r#"{"hosts":["a","b"],"opts":{"ciphers":null,"tls":true},"port":8080}"#)),
    (P, "builtins.readFile ./text.txt", V(r#""first line\nzweite Zeile ✓\n""#)),
    (P, "builtins.readFile ./sub/../text.txt", V(r#""first line\nzweite Zeile ✓\n""#)),
    (P, "builtins.readFile ./empty.txt", V(r#""""#)),
    (P, "builtins.fromJSON (builtins.readFile ./numbers.json)",
        V(r#"{"hundred":100,"max":9223372036854775807,"min":-9223372036854775808,"negzero":0,"one":1,"small":-0.0015}"#)),
    (P, "builtins.typeOf (builtins.fromJSON (builtins.readFile ./numbers.json)).one", V(r#""float""#)),
    (P, "(builtins.fromJSON (builtins.readFile ./strings.json)).escapes", V(r#""tab\tquote\"slash\\ é 😀""#)),
    (P, "builtins.fromJSON (builtins.readFile ./overflow.json)", Error),
    (P, "builtins.readFile ./inventory.json == builtins.readFile (./. + \"/inventory.json\")", V("true")),
    (P, "import (./sub + \"/y.nix\")", V(r#"{"list":[2,4,6],"y":"from sub/y.nix"}"#)),
    (P, "let d = ./sub; in (import d).nested.y", V(r#""from sub/y.nix""#)),
    (P, "(import ./data.nix // { extra = 1; }) ? extra", V("true")),
    // `?` binds tighter than `//`: this is `import ./data.nix // ({ extra = 1; } ? extra)`.
    (P, "import ./data.nix // { extra = 1; } ? extra", Error),
    (P, "import ./fn.nix 1", Error),
    (L, r#"lib.mapAttrsToList (n: m: "${n}:${lib.concatStringsSep "," m.tags}") (import ./data.nix).machines"#,
        V(r#"["alpha:web,prod","beta:prod"]"#)),
    (L, "(import ./hosts.nix { inherit lib; }).machines.c.tags", V(r#"["all"]"#)),
    // nlohmann's parser skips a byte order mark; the evaluator's does not.
    (P, "builtins.fromJSON (builtins.readFile ./bom.json)", NoneOrValue),
    // Not UTF-8: nix reads bytes, the evaluator declines.
    (P, "builtins.stringLength (builtins.readFile ./latin1.txt)", NoneOrValue),
    (P, "builtins.readFile ./missing.json", Error),
    (P, "builtins.fromJSON (builtins.readFile ./missing.json)", Error),
    (P, "builtins.readFile ./sub", Error),
    (P, "builtins.fromJSON (builtins.readFile ./text.txt)", Error),
    (P, r#"builtins.readFile "./text.txt""#, Error),
    // ---------------------------------------------------------------- files: import
    (P, "(import ./data.nix).machines",
        V(r#"{"alpha":{"deploy":{"targetHost":"root@alpha"},"tags":["web","prod"]},"beta":{"machineClass":"darwin","tags":["prod"]}}"#)),
    (P, "(import ./data.nix).settings.fqdn", V(r#""alpha.example.org""#)),
    (P, "import ./fn.nix { x = 1; }", V(r#"{"names":["x"],"sum":11}"#)),
    (P, "(import ./fn.nix { x = 1; y = 2; z = 3; }).names", V(r#"["x","y","z"]"#)),
    (P, "builtins.typeOf (import ./fn.nix)", V(r#""lambda""#)),
    (P, "import ./sub",
        V(r#"{"fromJson":{"hosts":["a","b"],"opts":{"ciphers":null,"tls":true},"port":8080},"nested":{"list":[2,4,6],"y":"from sub/y.nix"},"up":"alpha.example.org"}"#)),
    (P, "(import ./sub/default.nix).nested.list", V("[2,4,6]")),
    // The root directory itself, as a flake's `outputs` imports it (`import ./.`).
    (P, "(import ./.).fromRoot", V(r#""the root default.nix""#)),
    (P, "(import ./sub/..).fromRoot", V(r#""the root default.nix""#)),
    // Where the repository lies on the machine that evaluates it is not known: never a guess.
    (P, "toString ./sub", NoneOrValue),
    (P, "builtins.stringLength (toString ./.) > 0", NoneOrValue),
    (P, r#"(import (./. + "/data.nix")).settings.domain"#, V(r#""example.org""#)),
    (P, "let a = import ./data.nix; b = import ./data.nix; in a == b", V("true")),
    (P, r#"[ (builtins.baseNameOf ./sub/x.json) (builtins.typeOf ./sub) ((./sub + "/x.json") == ./sub/x.json) ]"#,
        V(r#"["x.json","path",true]"#)),
    (L, "(import ./hosts.nix { inherit lib; }).machines",
        V(r#"{"a":{"machineClass":{"_type":"override","content":"nixos","priority":1000},"tags":["all","server"]},"b":{"machineClass":{"_type":"override","content":"nixos","priority":1000},"tags":["all","server"]},"c":{"machineClass":{"_type":"override","content":"nixos","priority":1000},"tags":["all"]}}"#)),
    (L, "(import ./hosts.nix { inherit lib; }).services",
        V(r#"{"_type":"merge","contents":[{"_type":"if","condition":true,"content":{"ssh":{"enable":true}}},{"borg":{"enable":{"_type":"override","content":false,"priority":50}}}]}"#)),
    (L, r#"lib.genAttrs (builtins.attrNames (import ./data.nix).machines) (n: lib.mkDefault "x")"#,
        V(r#"{"alpha":{"_type":"override","content":"x","priority":1000},"beta":{"_type":"override","content":"x","priority":1000}}"#)),
    (L, "lib.filterAttrs (n: m: m ? machineClass) (import ./data.nix).machines",
        V(r#"{"beta":{"machineClass":"darwin","tags":["prod"]}}"#)),
    (P, "import ./fn.nix { }", Error),
    (P, "import ./missing.nix", Error),
    (P, "(import ./missing.nix).machines or { }", Error),
    (P, "import ./broken.nix", Error),
    (P, "import ./inventory.json", Error),
    (P, "import ./hosts.nix { }", Error),
    // ---------------------------------------------------------------- files: outside the subset
    (P, "builtins.pathExists ./inventory.json", NoneOrValue),
    (P, "builtins.attrNames (builtins.readDir ./sub)", NoneOrValue),
    (P, "builtins.stringLength (toString ./inventory.json) > 0", NoneOrValue),
    // ---------------------------------------------------------------- fixed mismatches

    // `lib.<namespace>.<name>` is looked up by `<name>` alone, whatever the namespace: names
    // nixpkgs does not have there evaluate (to the top-level function of that name).
    (L, "lib.strings.mkIf true 1", Error),
    // nixpkgs' `lib.lists.hasPrefix` is the list function; the evaluator uses the string one.
    (L, r#"lib.lists.hasPrefix "a" "abc""#, Error),
    // Any name under `lib.types` is an option type (named "unknown"), so a typo evaluates.
    (L, "lib.types.strr.name", Error),
    // The model of `mkEnableOption` has no `description` or `example`.
    (L, r#"builtins.attrNames (lib.mkEnableOption "ssh")"#, V(r#"["_type","default","description","example","type"]"#)),
    // Option types are canonicalised (`either` -> "oneOf", `lazyAttrsOf` -> "attrsOf").
    (L, "map (t: t.name) [ (lib.types.either lib.types.str lib.types.int) (lib.types.lazyAttrsOf lib.types.str) ]",
        V(r#"["either","lazyAttrsOf"]"#)),
    // An unsigned JSON integer above i64::MAX: Nix 2.8 wraps it to a negative integer (later
    // versions fail); the evaluator makes a float of it. It should decline (None).
    (P, "builtins.fromJSON (builtins.readFile ./big.json)", NoneOrValue),
    // A JSON string with `\u0000`: Nix cuts the string at the NUL ("a"); the evaluator keeps
    // it ("a\u0000b"). It should decline (None).
    (P, "(builtins.fromJSON (builtins.readFile ./strings.json)).name", NoneOrValue),
];

// ------------------------------------------------------------------------------------------------
// The scratch directory: a copy of tests/eval_lib
// ------------------------------------------------------------------------------------------------

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create scratch data dir");
    let entries = std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {from:?}: {e}"));
    for entry in entries {
        let entry = entry.expect("read dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {:?}: {e}", entry.path()));
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The tests
// ------------------------------------------------------------------------------------------------

/// The expression nix evaluates for a case: with `lib` bound to the stand-in for
/// [`Scope::Lib`]. Newlines keep a trailing `#` comment from swallowing the parenthesis.
fn nix_expression(scope: Scope, expr: &str) -> String {
    match scope {
        Scope::Lib => format!("({{ lib, ... }}:\n{expr}\n) {{ lib = import ./lib.nix; }}"),
        Scope::Plain => expr.to_owned(),
    }
}

fn eval_ours(dir: &Path, scope: Scope, expr: &str) -> OursOutcome {
    let src = expr.to_owned();
    let dir = dir.to_path_buf();
    run_isolated("eval_in_dir", move || {
        infra_check_analysis::eval::eval_in_dir(&dir, &src, scope == Scope::Lib)
    })
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Lib => "lib",
        Scope::Plain => "plain",
    }
}

#[test]
fn table_has_enough_cases_of_each_kind() {
    let count = |f: fn(&Case) -> bool| CASES.iter().filter(|c| f(c)).count();
    let values = count(|c| matches!(c.2, V(_)));
    let errors = count(|c| matches!(c.2, Error));
    let unknown = count(|c| matches!(c.2, NoneOrValue));
    let with_lib = count(|c| c.0 == Scope::Lib);
    let with_files = count(|c| c.1.contains("./"));
    assert!(CASES.len() >= 60, "only {} cases", CASES.len());
    assert!(values >= 40, "only {values} supported-subset cases");
    assert!(errors >= 10, "only {errors} expected-error cases");
    assert!(unknown >= 5, "only {unknown} outside-the-subset cases");
    assert!(with_lib >= 40, "only {with_lib} cases with lib");
    assert!(with_files >= 20, "only {with_files} cases reading files");
    for (_, expr, expect) in CASES.iter() {
        if let V(json) = expect {
            serde_json::from_str::<Value>(json)
                .unwrap_or_else(|e| panic!("expected JSON for {expr:?} does not parse: {e}"));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (scope, expr, _) in CASES.iter() {
        assert!(seen.insert((*scope, *expr)), "duplicate case {expr:?}");
    }
    assert!(
        Path::new(DATA_DIR).join("lib.nix").is_file(),
        "missing {DATA_DIR}/lib.nix"
    );
}

/// Checks every case of `cases` against nix; returns the report (empty when all agree), or
/// `None` when nix-instantiate is not installed.
fn run_cases(name: &str, cases: &[Case]) -> Option<String> {
    let nix = Nix::find_or_skip()?;
    let data = tempfile::tempdir().expect("create scratch data dir");
    copy_dir(Path::new(DATA_DIR), data.path());
    let dir = data.path();

    // So a broken scratch copy is not reported as a hundred mismatches.
    match nix.eval_in(
        dir,
        &nix_expression(Scope::Lib, "lib.mkDefault (builtins.readFile ./text.txt)"),
    ) {
        differential::NixOutcome::Value(v) if v["priority"] == serde_json::json!(1000) => {}
        other => panic!(
            "nix-instantiate cannot read the scratch copy of {DATA_DIR} or its lib.nix: {}",
            other.show()
        ),
    }

    let mut verdicts = Verdicts::default();
    for (index, (scope, expr, expect)) in cases.iter().enumerate() {
        let case = format!(
            "#{index} [{}, {}] {expr:?}",
            expect.kind(),
            scope_name(*scope)
        );
        let nix_out = nix.eval_in(dir, &nix_expression(*scope, expr));
        verdicts.judge(&case, expect, &nix_out, &eval_ours(dir, *scope, expr));
    }
    Some(verdicts.report(name))
}

#[test]
fn evaluator_with_lib_and_files_agrees_with_nix_instantiate() {
    if let Some(report) = run_cases("eval_differential_lib", CASES) {
        assert!(report.is_empty(), "{report}");
    }
}
