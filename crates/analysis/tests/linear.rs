//! The work of analysing a repository grows linearly with it. Work is counted, not timed: every
//! byte the analysis allocates is counted, and four times the input may cost at most six times
//! the bytes (a quadratic step would cost sixteen). The shapes are the ones real fleets grow
//! in: wide modules, many machines in `inventory.json` or the inventory, many options.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATED: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Root-relative paths and texts.
type Files = Vec<(String, String)>;

/// What grows, how, and the smaller size.
type Case = (&'static str, fn(usize) -> Files, usize);

/// Bytes allocated to analyse the files (with `flake.nix`) and render nothing.
fn bytes_to_analyse(files: Files) -> u64 {
    let before = ALLOCATED.load(Ordering::Relaxed);
    let host = common::host(files);
    let a = host.snapshot();
    a.prime().expect("not cancelled");
    let n = a.diagnostics().expect("not cancelled").len();
    drop(a);
    drop(host);
    std::hint::black_box(n);
    ALLOCATED.load(Ordering::Relaxed) - before
}

/// A module with `n` attributes in one set.
fn wide_module(n: usize) -> Files {
    let body: String = (0..n).map(|i| format!("  a{i} = {i};\n")).collect();
    vec![(
        "modules/wide.nix".into(),
        format!("{{ ... }}: {{ flake.fleet = {{\n{body}}}; }}\n"),
    )]
}

/// `n` machines in `inventory.json`, reached by tag from two roles whose service reads vars.
fn json_inventory(n: usize) -> Files {
    let machines: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "\"m{i}\": {{ \"machineClass\": \"{}\", \"tags\": [\"peer\", \"t{}\"] }}",
                if i % 2 == 0 { "nixos" } else { "darwin" },
                i % 10
            )
        })
        .collect();
    vec![
        (
            "inventory.json".into(),
            format!("{{ \"machines\": {{ {} }} }}", machines.join(", ")),
        ),
        (
            "modules/clan.nix".into(),
            r#"{ config, ... }: {
  clan.inventory.instances.zerotier.roles.peer.tags.peer = { };
  clan.inventory.instances.sshd.roles.server.tags.nixos = { };
  clan.inventory.instances.sshd.roles.client.tags.all = { };
  flake.modules.nixos.base = { config, ... }: {
    networking.hostName = config.clan.core.vars.generators.zerotier.files.zerotier-ip.value;
  };
}
"#
            .into(),
        ),
    ]
}

/// `n` machines in the inventory, each named in a role with its own settings, each with a
/// configuration that reads a var.
fn named_inventory(n: usize) -> Files {
    let machines: String = (0..n)
        .map(|i| format!("    m{i}.tags = [ \"t{}\" ];\n", i % 10))
        .collect();
    let members: String = (0..n)
        .map(|i| format!("    m{i}.settings.name = \"m{i}\";\n"))
        .collect();
    let configs: String = (0..n)
        .map(|i| format!("    m{i}.imports = [ config.flake.modules.nixos.base ];\n"))
        .collect();
    vec![(
        "modules/clan.nix".into(),
        format!(
            r#"{{ config, ... }}: {{
  clan.inventory.machines = {{
{machines}  }};
  clan.inventory.instances.zerotier.roles.peer.machines = {{
{members}  }};
  clan.machines = {{
{configs}  }};
  flake.modules.nixos.base = {{ config, ... }}: {{
    networking.hostName = config.clan.core.vars.generators.zerotier.files.zerotier-ip.value;
    clan.core.vars.generators.own.files.key = {{ }};
  }};
}}
"#
        ),
    )]
}

/// `n` options declared in one group, each defined once, and the same group inside a
/// submodule type.
fn many_options(n: usize) -> Files {
    let decls: String = (0..n)
        .map(|i| format!("    o{i} = lib.mkOption {{ type = lib.types.str; default = \"\"; }};\n"))
        .collect();
    let defs: String = (0..n).map(|i| format!("    o{i} = \"v{i}\";\n")).collect();
    vec![(
        "modules/options.nix".into(),
        format!(
            r#"{{ lib, ... }}: {{
  flake.modules.nixos.fleet = {{ lib, ... }}: {{
    options.fleet = {{
{decls}    }};
    options.nested = lib.mkOption {{
      type = lib.types.submodule {{ options.group = {{
{decls}      }}; }};
      default = {{ }};
    }};
  }};
  flake.modules.nixos.user = {{
    imports = [ ];
    fleet = {{
{defs}    }};
  }};
}}
"#
        ),
    )]
}

#[test]
fn four_times_the_input_costs_at_most_six_times_the_work() {
    // The first analysis also builds what every later one reuses.
    bytes_to_analyse(wide_module(10));
    let cases: [Case; 4] = [
        ("a module with many attributes", wide_module, 4_000),
        ("many machines in inventory.json", json_inventory, 500),
        ("many machines named in a role", named_inventory, 500),
        ("many options in one group", many_options, 500),
    ];
    for (what, make, n) in cases {
        let small = bytes_to_analyse(make(n));
        let large = bytes_to_analyse(make(4 * n));
        let ratio = large as f64 / small as f64;
        assert!(
            ratio <= 6.0,
            "{what}: {n} cost {small} bytes, {} cost {large} ({ratio:.1} times)",
            4 * n
        );
    }
}
