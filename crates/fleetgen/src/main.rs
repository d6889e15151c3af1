//! `fleetgen [--machines N] [--shared M] DIR`: writes a synthetic fleet for benchmarks.

fn main() {
    let mut spec = fleetgen::Spec {
        machines: 100,
        shared: 50,
    };
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let number = |v: Option<String>| v.and_then(|v| v.parse::<usize>().ok());
        match a.as_str() {
            "--machines" => match number(args.next()) {
                Some(n) => spec.machines = n,
                None => usage("--machines takes a number"),
            },
            "--shared" => match number(args.next()) {
                Some(n) => spec.shared = n,
                None => usage("--shared takes a number"),
            },
            "-h" | "--help" => usage(""),
            other if dir.is_none() => dir = Some(std::path::PathBuf::from(other)),
            other => usage(&format!("unexpected argument `{other}`")),
        }
    }
    let Some(dir) = dir else {
        usage("the output directory is missing")
    };
    if let Err(e) = fleetgen::write_fleet(&dir, spec) {
        eprintln!(
            "error: the fleet could not be written to `{}`: {e}.",
            dir.display()
        );
        std::process::exit(2);
    }
    println!(
        "Wrote a fleet of {} machines ({} shared modules per class) to `{}`.",
        spec.machines,
        spec.shared,
        dir.display()
    );
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("error: {problem}.");
    }
    eprintln!("usage: fleetgen [--machines N] [--shared M] DIR\n\nWrites a synthetic fleet (flake, machine modules, clan inventory, vars) for benchmarks.");
    std::process::exit(2);
}
