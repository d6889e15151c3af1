//! A small clan fleet shared by the protocol and editor tests: a flake with import-tree and
//! flake-parts inputs, a `base` module (an option, a vars generator and a read of one of its
//! files), a `monitoring` module, two machine modules (`web` imports through `with` and
//! misspells `monitoring`; `db` imports `base` directly), an inventory with both machines and
//! a zerotier instance, their `clan.machines` registration, and `db`'s generated vars.

#![allow(dead_code)] // each test crate uses part of it

pub mod client;
pub mod editor;
pub mod stdio;

use std::path::Path;

pub const FLAKE: &str = fleetgen::FLAKE_NIX;

pub const BASE: &str = r#"{
  flake.modules.nixos.base = { config, lib, ... }: {
    options.fleet.role = lib.mkOption {
      type = lib.types.str;
      default = "server";
      description = "What this machine is for.";
    };
    config = {
      clan.core.vars.generators.api = {
        files.id.secret = false;
        script = "generate";
      };
      services.api.idFile = config.clan.core.vars.generators.api.files.id.path;
    };
  };
}
"#;

pub const MONITORING: &str = r#"{
  flake.modules.nixos.monitoring = { lib, ... }: {
    services.prometheus.exporters.node.enable = lib.mkDefault true;
  };
}
"#;

/// `monitorng` on line 8 is a typo for `monitoring`.
pub const WEB: &str = r#"{ config, ... }:
let
  flakeModules = config.flake.modules.nixos;
in
{
  flake.modules.nixos."machines/nixos/web" = {
    imports = with flakeModules; [
      base
      monitorng
    ];
    fleet.role = "web";
  };
}
"#;

pub const DB: &str = r#"{ config, ... }:
{
  flake.modules.nixos."machines/nixos/db" = {
    imports = [ config.flake.modules.nixos.base ];
    fleet.role = "db";
  };
}
"#;

pub const INVENTORY: &str = r#"{
  clan.inventory.machines = {
    web = { tags = [ "edge" ]; };
    db = { };
  };
  clan.inventory.instances.zerotier = {
    roles.controller.machines.web = { };
    roles.peer.machines.db = { };
  };
}
"#;

pub const MACHINES: &str = r#"{ config, ... }:
{
  clan.machines.web.imports = [ config.flake.modules.nixos."machines/nixos/web" ];
  clan.machines.db.imports = [ config.flake.modules.nixos."machines/nixos/db" ];
}
"#;

pub const FILES: &[(&str, &str)] = &[
    ("flake.nix", FLAKE),
    ("modules/base.nix", BASE),
    ("modules/monitoring.nix", MONITORING),
    ("modules/machines/web.nix", WEB),
    ("modules/machines/db.nix", DB),
    ("modules/clan/inventory.nix", INVENTORY),
    ("modules/clan/machines.nix", MACHINES),
    ("vars/per-machine/db/api/id/value", "api-db\n"),
];

/// Writes the fleet into `dir`.
pub fn write_fleet(dir: &Path) {
    for (path, text) in FILES {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// The zero-based line and UTF-16 column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[start..].encode_utf16().count() as u32;
    (line, col)
}

/// The position `delta` bytes into the first occurrence of `needle` in `text`.
pub fn position_of(text: &str, needle: &str, delta: usize) -> (u32, u32) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    line_col(text, at + delta)
}
