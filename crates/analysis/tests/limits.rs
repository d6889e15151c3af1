//! Work is bounded by the input, whatever the input computes: fuel cuts total work (fan-out,
//! doubling strings, shared values walked as trees), depth cuts recursion, and files shaped to
//! make the parser quadratic or deeply recursive are refused with `syntax/too-complex`.
//! Every bound here is a generous deadline that only catches hangs; nothing is timed.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use infra_check_analysis::eval::eval_standalone;

/// Runs `f` and fails the test when it has not finished after `secs` seconds.
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {secs} s"),
    }
}

/// The diagnostics of a repository with one module file, as `code message` lines.
fn check_module(text: String) -> Vec<String> {
    let a = common::host(vec![("modules/m.nix".into(), text)]).snapshot();
    a.prime().expect("not cancelled");
    a.diagnostics()
        .expect("not cancelled")
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

/// Evaluates `src` on its own, failing the test when that takes more than a minute.
fn eval_within(what: &str, src: String) -> Option<serde_json::Value> {
    within(60, what, move || eval_standalone(&src))
}

fn fan_out(n: usize) -> String {
    let lets: String = (0..n).map(|i| format!("a{i} = f {i}; ")).collect();
    let names: String = (0..n).map(|i| format!("a{i} ")).collect();
    format!("let f = x: let {lets}in {{ inherit {names}; }}; in f 0")
}

#[test]
fn fan_out_is_cut_by_total_work_not_depth() {
    // Each call makes 300 more, each only one level deeper: depth never stops it.
    let v = within(120, "evaluating a 300-way fan-out", || {
        eval_standalone(&fan_out(300))
    });
    assert_eq!(v, None, "a value cut short is unknown");
    let diags = within(120, "checking a 300-way fan-out", || {
        check_module(fan_out(300))
    });
    assert!(diags.is_empty(), "{diags:?}");
    // As a module whose configuration is the fan-out, walked by the summary.
    let module = format!("{{ fleet = {}; }}", fan_out(300));
    let diags = within(120, "checking a module made of a fan-out", move || {
        check_module(module)
    });
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn strings_and_shared_values_cannot_grow_past_the_fuel() {
    // 2^40 bytes if nothing stopped it.
    let doubling: String = (1..=40)
        .map(|i| format!("s{i} = s{} + s{};\n", i - 1, i - 1))
        .collect();
    let strings = format!("let s0 = \"x\";\n{doubling}in builtins.stringLength s40");
    assert_eq!(eval_within("doubling a string", strings), None);
    // One 800 kB string, serialised 100,000 times: 80 GB of copies.
    let copies = "let s = builtins.concatStringsSep \"\" (builtins.genList (i: \"0123456789abcdef\") 50000); in builtins.toJSON (builtins.genList (i: s) 100000)";
    assert_eq!(
        eval_within("serialising copies of a string", copies.into()),
        None
    );
    // A list shared 2^60 times over: as a tree it is astronomically big, as a graph tiny.
    let sharing: String = (1..=60)
        .map(|i| format!("x{i} = [ x{} x{} ];\n", i - 1, i - 1))
        .collect();
    let dag = |body: &str| format!("let x0 = [ 1 ];\n{sharing}in {body}");
    // `deepSeq` visits each value once, as Nix does, so it finishes with the real answer.
    for (what, body, expected) in [
        ("serialising", "builtins.toJSON x60", None),
        (
            "deepSeq of",
            "builtins.deepSeq x60 1",
            Some(serde_json::json!(1)),
        ),
        ("comparing", "x60 == x60", None),
        ("printing", "builtins.toString x60", None),
    ] {
        let what = format!("{what} a shared list");
        assert_eq!(eval_within(&what, dag(body)), expected, "{what}");
    }
    let flatten = format!("{{ lib, ... }}: {{ x = lib.flatten ({}); }}", dag("x60"));
    let diags = within(60, "flattening a shared list", move || {
        check_module(flatten)
    });
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn a_value_deeper_than_any_stack_is_dropped_without_recursion() {
    // `foldl'` builds a list nested 50,000 deep without recursing; dropping it recursively
    // would need megabytes of stack. This thread has 256 KiB and says it has enough.
    let deep =
        "builtins.length (builtins.foldl' (acc: x: [ acc ]) [ ] (builtins.genList (i: i) 50000))";
    let v = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            infra_check_analysis::stack::assume_min_stack();
            eval_standalone(deep)
        })
        .unwrap()
        .join()
        .expect("no overflow");
    assert_eq!(v, Some(serde_json::json!(1)));
}

#[test]
fn chains_too_long_to_parse_in_linear_time_are_refused_with_a_diagnostic() {
    let n = 100_000;
    let names = |sep: &str| {
        (0..n)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let cases = [
        (
            "a dotted attribute path",
            format!("{{ {} = 1; }}", names(".")),
        ),
        (
            "a select chain",
            format!("let x = {{ }}; in x.{}", names(".")),
        ),
        (
            "an application chain",
            format!("let f = x: x; in {}1", "f ".repeat(n)),
        ),
        ("negations", format!("{}true", "!".repeat(n))),
        (
            "nested lists",
            format!("{}{}", "[ ".repeat(n), "]".repeat(n)),
        ),
        (
            "nested parentheses",
            format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        ),
        ("a `++` chain", format!("[ ]{}", " ++ [ ]".repeat(n))),
        ("a `let` chain", format!("{}1", "let a = 1; in ".repeat(n))),
    ];
    for (what, text) in cases {
        // Evaluated on its own, such a file is unknown, not a stack overflow.
        assert_eq!(eval_within(what, text.clone()), None, "{what}");
        let diags = within(120, what, move || check_module(text));
        assert_eq!(diags.len(), 1, "{what}: {diags:?}");
        assert!(
            diags[0].starts_with("syntax/too-complex `modules/m.nix` is too complex to analyse: "),
            "{what}: {diags:?}"
        );
    }
}

#[test]
fn chains_of_ordinary_length_are_analysed() {
    // Long enough to be rare in real code, well inside every limit.
    let path = (0..100)
        .map(|i| format!("a{i}"))
        .collect::<Vec<_>>()
        .join(".");
    let cases = [
        format!("{{ {path} = 1; }}"),
        format!("let x = {{ }}; in x.{path} or 1"),
        format!("let f = x: x; in {}1", "f ".repeat(200)),
        format!("{}true", "!".repeat(200)),
        format!("{}1{}", "[ ".repeat(200), " ]".repeat(200)),
    ];
    for text in cases {
        let diags = check_module(text.clone());
        assert!(diags.is_empty(), "{text}: {diags:?}");
    }
}
