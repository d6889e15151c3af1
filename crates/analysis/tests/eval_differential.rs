//! Differential tests: the partial evaluator against real Nix.
//!
//! Every case in [`CASES`] is evaluated twice:
//!
//! * by `nix-instantiate --eval --strict --json -E <expr>` (Debian package `nix-bin`), run in
//!   a scratch HOME/XDG environment with an empty `NIX_PATH` and `--readonly-mode`;
//! * by `infra_check_analysis::eval::eval_standalone(expr)`.
//!
//! What counts as agreement depends on the case's [`Expect`]:
//!
//! * [`Expect::Value`] — inside the supported subset. Nix must succeed and print the JSON written
//!   in the table (this keeps the table honest), and the evaluator must return `Some` of the same
//!   value. `None` is a failure here.
//! * [`Expect::Error`] — Nix must fail (throw, type error, missing attribute, …), and the
//!   evaluator must return `None`: it must never make up a value.
//! * [`Expect::NoneOrValue`] — outside the supported subset but deterministic. Nix must succeed;
//!   the evaluator may return `None` (Unknown) or exactly Nix's value, never anything else.
//!
//! All disagreements are collected and reported in one assertion failure, so one run shows
//! everything.
//!
//! Numbers are compared numerically: integers exactly, anything involving a float with a small
//! relative tolerance, because Nix 2.x prints floats with six significant digits (`0.1 + 0.2`
//! prints as `0.3`, `2 * 1.5` as `3`).
//!
//! When `nix-instantiate` is missing the test prints a skip message and passes, unless
//! `INFRA_CHECK_REQUIRE_TOOLS=1` is set, in which case it fails. `NIX_INSTANTIATE=/path` selects
//! a specific binary.
//!
//! Run: `cargo test -p infra-check-analysis --test eval_differential -- --nocapture`
//!
//! To add a case, append a line to [`CASES`]. For `Expect::Value` write the JSON Nix prints; if
//! unsure, add the case with any value and the failure message shows what Nix printed.

mod differential;

use differential::{run_isolated, Expect, Nix, OursOutcome, Verdicts};
use serde_json::Value;

use Expect::{Error, NoneOrValue, Value as V};

static CASES: &[(&str, Expect)] = &[
    // ---------------------------------------------------------------- literals
    ("1", V("1")),
    ("-5", V("-5")),
    ("1.5", V("1.5")),
    ("[ true false null ]", V("[true,false,null]")),
    (r#""hello""#, V(r#""hello""#)),
    (r#""a\tb\n\"c\"\\ \${x}""#, V(r#""a\tb\n\"c\"\\ ${x}""#)),
    (r#""$a ${"b"} $""#, V(r#""$a b $""#)),
    (r#""$${x}""#, V(r#""$${x}""#)),
    // Strings of one literal without escapes are read from their text as written.
    (r#""""#, V(r#""""#)),
    (r#""a;b}{ # c /* d */ $ e''f""#, V(r#""a;b}{ # c /* d */ $ e''f""#)),
    (r#"{ "a b" = 1; "" = 2; }."a b" + { "" = 2; }."""#, V("3")),
    (r#""a\\b" + "\n""#, V(r#""a\\b\n""#)),
    ("/* c */ 1 # trailing comment", V("1")),
    ("9223372036854775807", V("9223372036854775807")),
    (r#"[ 1 "a" [ 2 ] { } null 2.5 ]"#, V(r#"[1,"a",[2],{},null,2.5]"#)),
    // ---------------------------------------------------------------- indented strings
    ("''\n  foo\n    bar\n''", V(r#""foo\n  bar\n""#)),
    ("''  a\n  b''", V(r#""a\nb""#)),
    ("''\n  a\n  ''", V(r#""a\n""#)),
    ("''\n    a\n  \n    b\n  ''", V(r#""a\n\nb\n""#)),
    ("''\n\ta\n''", V(r#""\ta\n""#)),
    ("''\n    ${\"x\"}\n  y\n''", V(r#""  x\ny\n""#)),
    ("let x = \"X\"; in ''\n  a ${x}\n    b\n''", V(r#""a X\n  b\n""#)),
    // An escaped line break restarts indentation stripping in Nix; the evaluator declines.
    ("'' a ''${x} b ''' c ''\\n d''", NoneOrValue),
    ("'' a ''${x} b ''' c d''", V(r#""a ${x} b '' c d""#)),
    ("''$${x}''", V(r#""$${x}""#)),
    ("''\n  ''${\"lit\"} ${\"i\"}\n''", V(r#""${\"lit\"} i\n""#)),
    // ---------------------------------------------------------------- attrsets
    ("rec { a = 1; b = a + 1; }", V(r#"{"a":1,"b":2}"#)),
    ("rec { a = b; b = 2; }", V(r#"{"a":2,"b":2}"#)),
    ("rec { x = { y = z; }; z = 3; }", V(r#"{"x":{"y":3},"z":3}"#)),
    ("{ a.b = 1; a.c = 2; }", V(r#"{"a":{"b":1,"c":2}}"#)),
    ("{ a = { b = 1; }; a.c = 2; }", V(r#"{"a":{"b":1,"c":2}}"#)),
    ("{ a.b = 1; a = { c = 2; }; }", V(r#"{"a":{"b":1,"c":2}}"#)),
    ("{ a = { b.c = 1; }; a.b.d = 2; }", V(r#"{"a":{"b":{"c":1,"d":2}}}"#)),
    ("{ a.b.c = 1; a.b.d = 2; a.e = 3; }", V(r#"{"a":{"b":{"c":1,"d":2},"e":3}}"#)),
    ("rec { a.b = 1; c = a.b + 1; }", V(r#"{"a":{"b":1},"c":2}"#)),
    (r#"{ "a b" = 1; "${"c"}" = 2; }"#, V(r#"{"a b":1,"c":2}"#)),
    (r#"{ ${"x" + "y"} = 1; }"#, V(r#"{"xy":1}"#)),
    (r#"let k = "n"; in { "${k}1" = 1; ${k} = 2; }"#, V(r#"{"n":2,"n1":1}"#)),
    (r#"{ "${"a.b"}" = 1; }"#, V(r#"{"a.b":1}"#)),
    (r#"{ "a.b" = 1; }."a.b""#, V("1")),
    (r#"{ a = { b = 1; }; }.${"a"}.b"#, V("1")),
    (r#"let attr = "b"; in { a.b = 7; }.a.${attr}"#, V("7")),
    ("{ a.b.c = 5; }.a.b.c", V("5")),
    ("let a = { b = 1; }; in a.c or a.b", V("1")),
    (r#"let a = { b = 1; }; in a.b.c or "d""#, V(r#""d""#)),
    ("let a = throw \"x\"; in { inherit a; }.b or 1", V("1")),
    ("let s = { x = 1; }; in [ (s ? x) (s ? y) (s ? x.y) ]", V("[true,false,false]")),
    (r#"[ ({ a = 1; } ? "a") ({ x = 1; } ? ${"x"}) ({ a.b = 1; } ? a.b) ]"#, V("[true,true,true]")),
    ("{ b = 1; a = 2; }", V(r#"{"a":2,"b":1}"#)),
    ("{ a = throw \"lazy\"; b = 1; }.b", V("1")),
    // ---------------------------------------------------------------- inherit
    ("let x = 1; in { inherit x; y = 2; }", V(r#"{"x":1,"y":2}"#)),
    ("let s = { a = 1; b = 2; }; in { inherit (s) a b; }", V(r#"{"a":1,"b":2}"#)),
    ("{ inherit (builtins) length; }.length [1 2]", V("2")),
    ("let x = 5; in rec { inherit x; y = x + 1; }", V(r#"{"x":5,"y":6}"#)),
    ("rec { x = 1; y = { inherit x; }; }", V(r#"{"x":1,"y":{"x":1}}"#)),
    ("with { a = 1; }; let b = a + 1; in { inherit a b; }", V(r#"{"a":1,"b":2}"#)),
    ("let inherit (builtins) map; in map (x: x + 1) [1 2]", V("[2,3]")),
    // ---------------------------------------------------------------- let
    ("let a = b + 1; b = 2; in a", V("3")),
    ("let x = 1; in let x = 2; in x", V("2")),
    ("let x = x0: x0; x0 = 2; in x 3", V("3")),
    ("let a.b = 1; a.c = 2; in a", V(r#"{"b":1,"c":2}"#)),
    ("let x = throw \"never forced\"; in 1", V("1")),
    ("let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 15", V("610")),
    // ---------------------------------------------------------------- with
    ("let x = 1; in with { x = 2; }; x", V("1")),
    ("with { x = 1; }; with { x = 2; }; x", V("2")),
    ("with { x = 1; y = 2; }; [ x y ]", V("[1,2]")),
    ("let f = x: with { x = 5; }; x; in f 1", V("1")),
    ("with { x = 1; }; rec { y = x; x = 2; }", V(r#"{"x":2,"y":2}"#)),
    ("with { x = 1; }; with { y = 2; }; x + y", V("3")),
    ("with builtins; length [1 2 3]", V("3")),
    ("{ a = with { b = 1; }; b; }", V(r#"{"a":1}"#)),
    // ---------------------------------------------------------------- operators
    ("[1] ++ [2]", V("[1,2]")),
    ("[1] ++ [2] ++ [ [3] ]", V("[1,2,[3]]")),
    ("{a=1;} // {a=2; b=3;}", V(r#"{"a":2,"b":3}"#)),
    ("{ a = { x = 1; }; } // { a = { y = 2; }; }", V(r#"{"a":{"y":2}}"#)),
    ("{a=1;} // {b=2;} // {a=3;}", V(r#"{"a":3,"b":2}"#)),
    ("let a = { x = 1; }; b = a // { y = 2; }; in b.x + b.y", V("3")),
    (r#""a" + "b""#, V(r#""ab""#)),
    ("1 + 2 * 3 - 4", V("3")),
    ("1 / 2", V("0")),
    ("-7 / 2", V("-3")),
    ("7 - -2", V("9")),
    ("let x = 4; in -x", V("-4")),
    ("1 + 2.5", V("3.5")),
    ("5 / 2.0", V("2.5")),
    ("0.1 + 0.2", V("0.3")),
    ("2 * 1.5", V("3")),
    (r#"[ (1 < 2) (2 <= 2) (3 > 4) (3 >= 3) (1 == 1) (1 != 1) ("a" < "b") ("10" < "9") ]"#,
        V("[true,true,false,true,true,false,true,true]")),
    (r#"[ (1 == 1.0) ([1 2] == [1 2]) ({a=1;} == {a=1;}) ("a" == "a") (null == null) ({ } == [ ]) (1 == "1") ]"#,
        V("[true,true,true,true,true,false,false]")),
    ("[ ([ 1 2 ] < [ 1 3 ]) (1.5 < 2) ]", V("[true,true]")),
    ("[ (true && false) (true || false) (!true) (false -> false) (true -> false) ]",
        V("[false,true,false,true,false]")),
    (r#"[ (false && throw "x") (true || throw "x") (false -> throw "x") ]"#, V("[false,true,true]")),
    ("1 + 2 == 3 && !false", V("true")),
    ("!(1 == 2)", V("true")),
    (r#"if 1 < 2 then "y" else "n""#, V(r#""y""#)),
    (r#"if false then throw "no" else 3"#, V("3")),
    // ---------------------------------------------------------------- string interpolation
    (r#""a${"b"}c""#, V(r#""abc""#)),
    (r#"let n = "x"; in "${n}-${n + "y"}""#, V(r#""x-xy""#)),
    (r#""${toString 1}""#, V(r#""1""#)),
    (r#""a${"b${"c"}"}""#, V(r#""abc""#)),
    // ---------------------------------------------------------------- lambdas
    ("let f = { a, b ? a + 1, ... }@args: [ a b (args.c or 0) ]; in f { a = 1; c = 5; }",
        V("[1,2,5]")),
    ("({ x ? 1 }: x) {}", V("1")),
    ("(args@{ a, ... }: args) { a = 1; b = 2; }", V(r#"{"a":1,"b":2}"#)),
    ("({ a, b ? 2 }@args: args) { a = 1; }", V(r#"{"a":1}"#)),
    ("({ a ? b, b ? 3 }: a) {}", V("3")),
    ("({ a, b }: a - b) { b = 2; a = 5; }", V("3")),
    ("let f = { a ? 1, ... }: a; in f { b = 2; }", V("1")),
    ("(x: y: x) 1 2", V("1")),
    ("(x: x) (x: x) 3", V("3")),
    ("let x = 1; f = x: x + 10; in f 5", V("15")),
    ("let compose = f: g: x: f (g x); in compose (x: x * 2) (x: x + 1) 3", V("8")),
    ("(x: x.a) { a = 1; }", V("1")),
    ("let f = x: y: x - y; g = f 10; in [ (g 3) (g 4) ]", V("[7,6]")),
    // ---------------------------------------------------------------- builtins
    ("builtins.attrNames { b = 1; a = 2; }", V(r#"["a","b"]"#)),
    (r#"builtins.attrNames { "B" = 1; "a" = 2; "_" = 3; }"#, V(r#"["B","_","a"]"#)),
    ("builtins.attrValues { b = 1; a = 2; }", V("[2,1]")),
    ("builtins.length [ 1 2 3 ]", V("3")),
    (r#"builtins.length [ (throw "lazy") 1 ]"#, V("2")),
    ("[ (builtins.elem 2 [ 1 2 ]) (builtins.elem 5 [ 1 2 ]) (builtins.elem [ 1 ] [ [ 1 ] ]) ]",
        V("[true,false,true]")),
    ("map (x: x * 2) [1 2 3]", V("[2,4,6]")),
    ("builtins.map (x: x.a) [ { a = 1; } { a = 2; } ]", V("[1,2]")),
    ("builtins.filter (x: x > 1) [ 1 2 3 ]", V("[2,3]")),
    ("let xs = builtins.genList (x: x) 5; in builtins.filter (x: builtins.elem x [ 1 3 ]) xs", V("[1,3]")),
    (r#"toString [ 1 "a" true null ]"#, V(r#""1 a 1 ""#)),
    (r#"toString [ [ 1 2 ] [ ] "x" ]"#, V(r#""1 2 x""#)),
    (r#"[ (toString 1) (toString true) (toString false) (toString null) (toString "s") (builtins.toString 42) ]"#,
        V(r#"["1","1","","","s","42"]"#)),
    ("toString 1.5", V(r#""1.500000""#)),
    ("toString 0.1", V(r#""0.100000""#)),
    (r#"[ (builtins.hasAttr "a" { a = 1; }) (builtins.hasAttr "b" { a = 1; }) (builtins.getAttr "a" { a = 1; }) ]"#,
        V("[true,false,1]")),
    (r#"builtins.listToAttrs [ { name = "a"; value = 1; } { name = "b"; value = 2; } ]"#, V(r#"{"a":1,"b":2}"#)),
    (r#"builtins.listToAttrs [ { name = "a"; value = 1; } { name = "a"; value = 2; } ]"#, V(r#"{"a":1}"#)),
    (r#"builtins.attrNames (builtins.listToAttrs (map (n: { name = n; value = null; }) [ "b" "a" ]))"#,
        V(r#"["a","b"]"#)),
    (r#"[ (builtins.concatStringsSep "," ["a" "b"]) (builtins.concatStringsSep "," []) ]"#, V(r#"["a,b",""]"#)),
    (r#"builtins.concatStringsSep "" (map toString [1 2 3])"#, V(r#""123""#)),
    (r#"[ (builtins.isAttrs {}) (builtins.isList []) (builtins.isString "") (builtins.isInt 1) (builtins.isInt 1.0) (builtins.isBool false) (builtins.isFunction (x: x)) (builtins.isNull null) (isNull 1) (builtins.isFunction builtins.map) (builtins.isString 1) ]"#,
        V("[true,true,true,true,false,true,true,true,false,true,false]")),
    ("[ (builtins.head [ 1 2 ]) (builtins.tail [ 1 2 3 ]) (builtins.elemAt [ 1 2 3 ] 2) ]", V("[1,[2,3],3]")),
    ("builtins.head (builtins.tail [ 1 2 3 ])", V("2")),
    ("let f = builtins.elemAt [ 10 20 ]; in f 1", V("20")),
    ("builtins.foldl' (a: b: a + b) 0 [1 2 3]", V("6")),
    ("builtins.foldl' (acc: x: [ x ] ++ acc) [ ] [ 1 2 3 ]", V("[3,2,1]")),
    (r#"builtins.foldl' (acc: n: acc // { ${n} = builtins.stringLength n; }) { } [ "a" "bb" ]"#,
        V(r#"{"a":1,"bb":2}"#)),
    ("builtins.genList (i: i * i) 4", V("[0,1,4,9]")),
    ("builtins.genList (x: { v = x; }) 2", V(r#"[{"v":0},{"v":1}]"#)),
    (r#"builtins.removeAttrs { a = 1; b = 2; c = 3; } [ "a" "z" ]"#, V(r#"{"b":2,"c":3}"#)),
    (r#"removeAttrs { a = 1; b = 2; } [ "b" ]"#, V(r#"{"a":1}"#)),
    ("builtins.mapAttrs (n: v: n + toString v) { a = 1; b = 2; }", V(r#"{"a":"a1","b":"b2"}"#)),
    ("builtins.mapAttrs (n: v: v * 2) { }", V("{}")),
    ("builtins.concatLists [ [ 1 ] [ ] [ 2 3 ] ]", V("[1,2,3]")),
    (r#"map builtins.typeOf [ 1 1.5 "s" true null [] {} (x: x) ]"#,
        V(r#"["int","float","string","bool","null","list","set","lambda"]"#)),
    ("builtins.typeOf (1 + 1.0)", V(r#""float""#)),
    ("builtins.isInt (4 / 2)", V("true")),
    ("builtins.typeOf ./.", V(r#""path""#)),
    (r#"builtins.toJSON { a = [ 1 "x" null ]; }"#, V(r#""{\"a\":[1,\"x\",null]}""#)),
    ("builtins.toJSON { b = true; a = { }; }", V(r#""{\"a\":{},\"b\":true}""#)),
    (r#"builtins.toJSON "a\nb\"é""#, V(r#""\"a\\nb\\\"é\"""#)),
    (r#"builtins.fromJSON ''{"a": [1, 2.5, true]}''"#, V(r#"{"a":[1,2.5,true]}"#)),
    (r#"builtins.fromJSON "[null, \"x\", {\"b\": -3}]""#, V(r#"[null,"x",{"b":-3}]"#)),
    (r#"builtins.fromJSON "\"\\u00e9\"""#, V(r#""é""#)),
    (r#"(builtins.fromJSON "{\"x\": {\"y\": 2}}").x.y"#, V("2")),
    (r#"builtins.replaceStrings [ "a" "b" ] [ "A" "B" ] "abcab""#, V(r#""ABcAB""#)),
    (r#"builtins.replaceStrings [ "" ] [ "-" ] "ab""#, V(r#""-a-b-""#)),
    (r#"builtins.replaceStrings [ "ab" "a" ] [ "X" "Y" ] "aab""#, V(r#""YX""#)),
    (r#"[ (builtins.substring 1 3 "hello") (builtins.substring 3 100 "hello") (builtins.substring 10 2 "hi") ]"#,
        V(r#"["ell","lo",""]"#)),
    (r#"builtins.substring 0 (-1) "abc""#, V(r#""abc""#)),
    (r#"[ (builtins.stringLength "héllo") (builtins.stringLength "") ]"#, V("[6,0]")),
    // ---------------------------------------------------------------- scoping and laziness, round 2
    ("let x = 1; in { x = 2; y = x; }", V(r#"{"x":2,"y":1}"#)),
    ("rec { x = 1; y = let x = 2; in x; }", V(r#"{"x":1,"y":2}"#)),
    ("let a = 1; b = a; in rec { a = 2; c = b; }", V(r#"{"a":2,"c":1}"#)),
    ("rec { a = 1; b = rec { a = 2; c = a; }; }", V(r#"{"a":1,"b":{"a":2,"c":2}}"#)),
    ("with { a = 1; }; { a = 2; b = a; }", V(r#"{"a":2,"b":1}"#)),
    ("with { a = 1; }; with { b = a; }; b", V("1")),
    ("with rec { a = 1; b = a; }; b", V("1")),
    ("let a = 1; in with { a = 2; }; with { a = 3; }; a", V("1")),
    ("with { x = 1; }; let f = x: x; in f 2", V("2")),
    ("let s = { inherit (t) a; }; t = { a = 3; }; in s.a", V("3")),
    ("{ inherit ({ a = 1; }) a; b = 2; }", V(r#"{"a":1,"b":2}"#)),
    (r#"{ inherit ({ a = throw "x"; }) a; b = 1; }.b"#, V("1")),
    ("let x = { a = x; }; in x.a.a.a ? a", V("true")),
    ("let builtins = { length = x: 42; }; in builtins.length [ ]", V("42")),
    ("let map = x: y: 0; in map (x: x) [ 1 ]", V("0")),
    ("let true = false; in true", V("false")),
    ("with { true = false; }; true", V("true")),
    ("with { map = 1; }; builtins.isFunction map", V("true")),
    ("with { length = 1; }; length", V("1")),
    (r#"with { toString = x: "w"; }; toString 1"#, V(r#""1""#)),
    (r#"let toString = x: "l"; in toString 1"#, V(r#""l""#)),
    (r#"let a = "${b}"; b = "c"; in a"#, V(r#""c""#)),
    ("(let x = 1; in x) + (with { y = 2; }; y)", V("3")),
    ("let f = x: if x == 0 then [ ] else [ x ] ++ f (x - 1); in f 3", V("[3,2,1]")),
    // ---------------------------------------------------------------- attrsets and select, round 2
    ("{ ${null} = 1; b = 2; }", V(r#"{"b":2}"#)),
    (r#"{ ${"a"}.b = 1; }"#, V(r#"{"a":{"b":1}}"#)),
    (r#"{ a.${"b"} = 1; a.c = 2; }"#, V(r#"{"a":{"b":1,"c":2}}"#)),
    (r#"[ (builtins.attrNames { "" = 1; }) { "" = 1; }."" ]"#, V(r#"[[""],1]"#)),
    ("builtins.attrNames { b.c = 1; a = 2; }", V(r#"["a","b"]"#)),
    ("let x = { a = 1; }; in x.a or 2 + 1", V("2")),
    ("let s = { a = null; }; in s.a or 5", V("null")),
    (r#"{ a = { }; }.a.b or "x""#, V(r#""x""#)),
    ("{ a = 1; }.a.b or 3", V("3")),
    ("[ ({ a = 1; } ? a.b.c) (let a = { b = 1; }; in a ? b && a.b == 1) ]", V("[false,true]")),
    ("[ ({ a = 1; } // { }) ({ } // { }) ]", V(r#"[{"a":1},{}]"#)),
    // Which names `builtins` lacks depends on the Nix version, so the evaluator does not say.
    (r#"[ (builtins.typeOf builtins) (builtins ? length) (builtins.hasAttr "foo" builtins) ]"#,
        NoneOrValue),
    (r#"[ (builtins.typeOf builtins) (builtins ? length) ]"#, V(r#"["set",true]"#)),
    (r#"(builtins.getAttr "map" builtins) (x: x + 1) [ 1 ]"#, V("[2]")),
    // ---------------------------------------------------------------- lambdas, round 2
    ("({ a ? 1 }@args: args) {}", V("{}")),
    ("({ a, ... }@args: builtins.attrNames args) { a = 1; b = 2; }", V(r#"["a","b"]"#)),
    ("let f = args@{ ... }: args; in f { }", V("{}")),
    ("[ (({ ... }: 1) { a = 1; }) (({ }: 2) { }) ]", V("[1,2]")),
    (r#"let f = { a ? throw "x" }: 1; in f { }"#, V("1")),
    ("let f = a: b: { inherit a b; }; in f 1 2", V(r#"{"a":1,"b":2}"#)),
    ("map (builtins.elemAt [ 1 2 ]) [ 1 0 ]", V("[2,1]")),
    // ---------------------------------------------------------------- strings, round 2
    ("''\n  a\n      \n  b\n''", V(r#""a\n    \nb\n""#)),
    ("''  \n  a''", V(r#""a""#)),
    ("''${\"a\"}\n  b''", V(r#""a\n  b""#)),
    ("''\n  a\n ''", V(r#""a\n""#)),
    ("''\n  a\n  b ''", V(r#""a\nb ""#)),
    ("let x = 2; in ''\n  ${toString x}\n  ${\"y\"}''", V(r#""2\ny""#)),
    (r#"[ "\r" "\z" "\$" ]"#, V(r#"["\r","z","$"]"#)),
    ("''\n  a''\\tb''\\z\n''", V(r#""a\tbz\n""#)),
    (r#"[ (toString [ ]) (toString [ [ ] "a" ]) (toString [ "a" [ ] ]) (toString [ "a" [ ] "b" ]) (toString [ [ ] [ ] ]) ]"#,
        V(r#"["","a","a ","a b",""]"#)),
    (r#"[ ("${"a"}${"b"}" == "ab") ({ a = "x"; }.a + "y" == "xy") ]"#, V("[true,true]")),
    // ---------------------------------------------------------------- numbers and comparisons, round 2
    ("[ (-1.5) (- -1) (2 - 1 - 1) (8 / 2 / 2) (0 - 0.5) ]", V("[-1.5,1,0,2,-0.5]")),
    (r#"[ (builtins.elem 1 [ 1.0 ]) ({ a = 1; } == { a = 1.0; }) ([ 1 ] == [ 1 2 ]) (null == false) ("a" != "b") (1.5 == 1.5) ]"#,
        V("[true,true,false,false,true,true]")),
    ("[ (builtins.typeOf (2 * 3)) (builtins.typeOf (builtins.fromJSON \"1.0\")) ]", V(r#"["int","float"]"#)),
    ("let x = 1.0; in builtins.isInt x", V("false")),
    ("builtins.head [ 1 ] + builtins.length [ ]", V("1")),
    // ---------------------------------------------------------------- builtins, round 2
    ("builtins.genList (x: x) 0", V("[]")),
    ("builtins.length (builtins.genList (x: throw \"lazy\") 3)", V("3")),
    ("builtins.genList (x: throw \"lazy\") 2 == [ ]", V("false")),
    ("builtins.foldl' (a: b: a) 0 []", V("0")),
    (r#"builtins.foldl' (acc: x: acc + x) "" [ "a" "b" ]"#, V(r#""ab""#)),
    ("builtins.isFunction builtins.foldl'", V("true")),
    (r#"[ (builtins.replaceStrings [ "a" ] [ "b" ] "") (builtins.replaceStrings [ "" ] [ "-" ] "") ]"#, V(r#"["","-"]"#)),
    (r#"builtins.attrNames (builtins.mapAttrs (n: v: throw "lazy") { a = 1; })"#, V(r#"["a"]"#)),
    (r#"builtins.length (builtins.attrValues { a = throw "x"; })"#, V("1")),
    (r#"builtins.tail [ (throw "x") 1 ]"#, V("[1]")),
    (r#"map (x: throw "x") [ ]"#, V("[]")),
    (r#"builtins.elem 1 [ 1 (throw "x") ]"#, V("true")),
    (r#"builtins.filter (x: x.keep) [ { keep = true; v = 1; } { keep = false; v = throw "lazy"; } ]"#,
        V(r#"[{"keep":true,"v":1}]"#)),
    ("builtins.concatLists (map (x: [ x x ]) [ 1 2 ])", V("[1,1,2,2]")),
    (r#"builtins.removeAttrs { a = 1; } [ "a" "a" ]"#, V("{}")),
    ("builtins.mapAttrs (name: value: { inherit name value; }) { x = 1; }", V(r#"{"x":{"name":"x","value":1}}"#)),
    (r#"builtins.listToAttrs (map (n: { name = n; value = n; }) [ "b" "a" "b" ])"#, V(r#"{"a":"a","b":"b"}"#)),
    (r#"[ (builtins.substring 0 0 "abc") (builtins.substring 1 2 "héllo") (builtins.stringLength (toString 1.5)) (builtins.stringLength "\n") ]"#,
        V(r#"["","é",8,1]"#)),
    (r#"builtins.substring 1 (-5) "abc""#, V(r#""bc""#)),
    (r#"[ (builtins.toJSON null) (builtins.toJSON true) (builtins.toJSON "\t") (builtins.toJSON { "" = 1; }) ]"#,
        V(r#"["null","true","\"\\t\"","{\"\":1}"]"#)),
    // Float printing in toJSON differs between Nix versions (`1` or `1.0`): not evaluated.
    (r#"[ (builtins.toJSON [ 2.5 1.0 ]) (builtins.toJSON 0.1) ]"#, NoneOrValue),
    ("builtins.toJSON { a = builtins.toJSON [ 1 ]; }", V(r#""{\"a\":\"[1]\"}""#)),
    (r#"[ (builtins.fromJSON "{}") (builtins.fromJSON "[]") (builtins.fromJSON " 12 ") (builtins.fromJSON "1e3") ((builtins.fromJSON "1.5") * 2) ]"#,
        V("[{},[],12,1000,3]")),
    ("builtins.fromJSON (builtins.toJSON { a = [ 1 { b = null; } ]; })", V(r#"{"a":[1,{"b":null}]}"#)),
    // ---------------------------------------------------------------- laziness and coercion, round 3
    ("false && 1", V("false")),
    ("with 1; 2", V("2")),
    (r#"with (throw "x"); 1"#, V("1")),
    ("builtins.toString [ 1.5 ]", V(r#""1.500000""#)),
    ("toString 123456789.0", V(r#""123456789.000000""#)),
    (r#""a" + toString [ 1 2 ]"#, V(r#""a1 2""#)),
    ("builtins.attrValues { a = 1; } == [ 1 ]", V("true")),
    (r#"builtins.fromJSON "\"\\ud83d\\ude00\"""#, V(r#""😀""#)),
    (r#"builtins.fromJSON "{\"a\":1,\"a\":2}""#, V(r#"{"a":2}"#)),
    // ---------------------------------------------------------------- expected errors
    (r#"throw "boom""#, Error),
    (r#"abort "x""#, Error),
    ("{ a = 1; }.b", Error),
    ("let a = { }; in a.b.c", Error),
    ("null.a", Error),
    (r#"1 + "a""#, Error),
    ("true + 1", Error),
    ("!1", Error),
    (r#""a" < 1"#, Error),
    (r#""${1}""#, Error),
    (r#""${{ }}""#, Error),
    ("toString { }", Error),
    ("toString (x: x)", Error),
    ("builtins.head [ ]", Error),
    ("builtins.elemAt [ 1 ] 5", Error),
    ("builtins.length { }", Error),
    ("[ 1 ] ++ { }", Error),
    ("{ } // [ ]", Error),
    ("let f = { a }: a; in f { a = 1; b = 2; }", Error),
    ("({ a }: a) { }", Error),
    (r#"[ 1 (throw "deep") ]"#, Error),
    (r#"{ a = { b = throw "deep"; }; }"#, Error),
    ("1 / 0", Error),
    ("if 1 then 2 else 3", Error),
    ("let x = x; in x", Error),
    ("rec { a = b; b = a; }", Error),
    ("{ a = 1; a = 2; }", Error),
    ("{ a.b = 1; a = 2; }", Error),
    (r#"builtins.getAttr "z" { }"#, Error),
    (r#"builtins.listToAttrs [ { name = 1; value = 2; } ]"#, Error),
    (r#"builtins.substring (-1) 1 "abc""#, Error),
    (r#"builtins.fromJSON "{""#, Error),
    ("builtins.toJSON (x: x)", Error),
    ("x: x", Error),
    ("undefinedVariable", Error),
    ("with { }; y", Error),
    ("assert false; 1", Error),
    ("builtins.elemAt [ 1 2 ] (-1)", Error),
    ("builtins.elemAt [ 1 2 ] 1.0", Error),
    ("builtins.genList (x: x) (-1)", Error),
    (r#"builtins.mapAttrs (n: v: throw "lazy") { a = 1; }"#, Error),
    ("[ (x: x) 1 ]", Error),
    (r#"builtins.head [ (throw "x") 1 ]"#, Error),
    (r#"builtins.elem 1 [ (throw "x") 1 ]"#, Error),
    (r#"builtins.listToAttrs [ { name = "a"; } ]"#, Error),
    (r#"builtins.concatStringsSep "," [ 1 ]"#, Error),
    (r#"builtins.concatStringsSep "," [ null ]"#, Error),
    (r#""${true}""#, Error),
    (r#""${null}""#, Error),
    ("let f = { a }: a; in f 1", Error),
    ("(1) 2", Error),
    ("let xs = [ 1 ] ++ xs; in builtins.head xs", Error),
    (r#"{ a = 1; ${"a"} = 2; }"#, Error),
    ("({ }: 1) { a = 1; }", Error),
    (r#"builtins.throw "x""#, Error),
    (r#"builtins.abort "x""#, Error),
    (r#"builtins.concatStringsSep "," [ true ]"#, Error),
    (r#"builtins.concatStringsSep "," [ 1.5 ]"#, Error),
    (r#"builtins.replaceStrings [ "a" ] [ 1 ] "a""#, Error),
    (r#"builtins.replaceStrings [ "a" "b" ] [ "x" ] "ab""#, Error),
    ("builtins.attrNames [ ]", Error),
    (r#"builtins.length "abc""#, Error),
    ("builtins.filter (x: 1) [ 1 ]", Error),
    ("builtins.genList 1 2", Error),
    ("builtins.genList (x: x) 2.0", Error),
    ("builtins.map (x: x) { }", Error),
    ("builtins.stringLength 1", Error),
    ("builtins.substring 0 1 1", Error),
    (r#"builtins.substring 0 1.0 "abc""#, Error),
    (r#"builtins.toJSON { a = throw "x"; }"#, Error),
    ("builtins.getAttr 1 { }", Error),
    (r#"builtins.hasAttr "a" [ ]"#, Error),
    (r#"builtins.isAttrs (throw "x")"#, Error),
    (r#"builtins.typeOf (throw "x")"#, Error),
    ("builtins.removeAttrs { } [ 1 ]", Error),
    ("builtins.listToAttrs [ 1 ]", Error),
    ("builtins.concatLists [ 1 ]", Error),
    (r#"builtins.head "a""#, Error),
    ("builtins.mapAttrs (n: v: v) [ ]", Error),
    (r#"{ a = 1; } // { b = throw "x"; }"#, Error),
    (r#"builtins.foldl' (a: b: a + b) 0 [ "a" ]"#, Error),
    ("builtins.fromJSON 1", Error),
    (r#"builtins.fromJSON "[1,]""#, Error),
    (r#"builtins.fromJSON "01""#, Error),
    (r#"builtins.fromJSON "nul""#, Error),
    (r#"builtins.fromJSON "1 2""#, Error),
    ("let f = { a, a }: a; in 1", Error),
    ("let a = 1; a = 2; in a", Error),
    ("rec { a = 1; a.b = 2; }", Error),
    ("if null then 1 else 2", Error),
    ("true && 1", Error),
    ("false || 1", Error),
    ("true -> 1", Error),
    ("! null", Error),
    (r#"- "a""#, Error),
    ("1 + null", Error),
    (r#""a" * 2"#, Error),
    ("{ } < { }", Error),
    ("null < null", Error),
    ("true < false", Error),
    (r#"[ 1 ] < [ "a" ]"#, Error),
    (r#""${1.5}""#, Error),
    (r#""${[ ]}""#, Error),
    ("let x = { inherit y; }; in x", Error),
    ("{ inherit (1) a; }", Error),
    ("{ inherit ({ }) a; }", Error),
    ("with 1; x", Error),
    ("{ a = x: x; }", Error),
    // ---------------------------------------------------------------- outside the subset
    (r#"builtins.hashString "sha256" "x""#, NoneOrValue),
    (r#"builtins.match "a(b)" "ab""#, NoneOrValue),
    (r#"builtins.split "," "a,b""#, NoneOrValue),
    (r#"builtins.fromTOML "a = 1""#, NoneOrValue),
    ("builtins.sort builtins.lessThan [3 1 2]", NoneOrValue),
    (r#"builtins.tryEval (throw "x")"#, NoneOrValue),
    ("builtins.functionArgs ({ a, b ? 1 }: a)", NoneOrValue),
    (r#"builtins.compareVersions "1.2" "1.10""#, NoneOrValue),
    (r#"builtins.splitVersion "1.2.3""#, NoneOrValue),
    ("builtins.intersectAttrs { a = 1; } { a = 2; b = 3; }", NoneOrValue),
    (r#"builtins.catAttrs "a" [ { a = 1; } { b = 2; } ]"#, NoneOrValue),
    (r#"builtins.groupBy (x: x) [ "a" "b" "a" ]"#, NoneOrValue),
    ("builtins.partition (x: x > 1) [ 1 2 3 ]", NoneOrValue),
    ("builtins.concatMap (x: [ x x ]) [ 1 2 ]", NoneOrValue),
    ("[ (builtins.any (x: x > 2) [ 1 3 ]) (builtins.all (x: x > 2) [ 1 3 ]) ]", NoneOrValue),
    ("builtins.bitAnd 6 3", NoneOrValue),
    ("[ (builtins.add 1 2) (builtins.sub 5 3) (builtins.mul 2 3) (builtins.div 7 2) ]", NoneOrValue),
    ("builtins.seq 1 2", NoneOrValue),
    (r#"builtins.deepSeq { a = 1; } "ok""#, NoneOrValue),
    (r#"[ (builtins.baseNameOf "/a/b") (builtins.dirOf "/a/b") ]"#, NoneOrValue),
    (r#"toString { __toString = self: "y"; }"#, NoneOrValue),
    (r#"toString { outPath = "x"; }"#, NoneOrValue),
    ("assert true; 1", NoneOrValue),
    ("builtins.isFloat 1.5", NoneOrValue),
    ("builtins.map 1 [ ]", NoneOrValue),
    ("builtins.mapAttrs 1 { }", NoneOrValue),
    ("[ (builtins.elem (x: x) [ 1 ]) (builtins.elem 1 [ (x: x) ]) ((x: x) == 1) ([ (x: x) ] == [ (x: x) ]) ]", NoneOrValue),
    ("let f = x: x; in [ ([ f ] == [ f ]) (f == f) ]", NoneOrValue),
];

#[test]
fn table_has_enough_cases_of_each_kind() {
    let values = CASES.iter().filter(|(_, e)| matches!(e, V(_))).count();
    let errors = CASES.iter().filter(|(_, e)| matches!(e, Error)).count();
    let unknown = CASES
        .iter()
        .filter(|(_, e)| matches!(e, NoneOrValue))
        .count();
    assert!(values >= 60, "only {values} supported-subset cases");
    assert!(errors >= 6, "only {errors} expected-error cases");
    assert!(unknown >= 6, "only {unknown} outside-the-subset cases");
    for (expr, expect) in CASES {
        if let V(json) = expect {
            serde_json::from_str::<Value>(json)
                .unwrap_or_else(|e| panic!("expected JSON for {expr:?} does not parse: {e}"));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (expr, _) in CASES {
        assert!(seen.insert(*expr), "duplicate case {expr:?}");
    }
}

#[test]
fn evaluator_agrees_with_nix_instantiate() {
    let Some(nix) = Nix::find_or_skip() else {
        return;
    };
    if matches!(eval_ours("1"), OursOutcome::Returned(None)) {
        eprintln!("note: eval_standalone(\"1\") returned None; the evaluator looks like a stub");
    }
    let mut verdicts = Verdicts::default();
    for (index, (expr, expect)) in CASES.iter().enumerate() {
        let case = format!("#{index} [{}] {expr:?}", expect.kind());
        verdicts.judge(&case, expect, &nix.eval(expr), &eval_ours(expr));
    }
    let report = verdicts.report("eval_differential");
    assert!(report.is_empty(), "{report}");
}

fn eval_ours(expr: &str) -> OursOutcome {
    let src = expr.to_owned();
    run_isolated("eval_standalone", move || {
        infra_check_analysis::eval::eval_standalone(&src)
    })
}
