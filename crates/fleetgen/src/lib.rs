//! Synthetic fleets for benchmarks: a flake with import-tree, `machines` machine modules (half
//! NixOS, half nix-darwin) importing shared modules through `with` lists, a clan inventory with
//! tags and an sshd instance on the NixOS machines, `clan.machines` registrations, and the
//! `vars/` + `sops/` files sshd's `openssh` generator needs — so the fleet checks clean and a
//! benchmark measures real work, not error reporting.

use std::io;
use std::path::Path;

/// How big a fleet to write.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub machines: usize,
    /// Shared modules per class.
    pub shared: usize,
}

fn write(dir: &Path, rel: &str, text: &str) -> io::Result<()> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

fn link(dir: &Path, rel: &str, target: &str) -> io::Result<()> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, path)
    }
    #[cfg(not(unix))]
    {
        let _ = target;
        Ok(())
    }
}

const SOPS: &str = r#"{"data": "ENC[AES256_GCM,data:c3ludGhldGlj,iv:aXY=,tag:dGFn,type:str]", "sops": {"age": [{"recipient": "age1synthetic", "enc": "-----BEGIN AGE ENCRYPTED FILE-----\nc3ludGhldGlj\n-----END AGE ENCRYPTED FILE-----\n"}], "lastmodified": "2026-01-01T00:00:00Z", "mac": "ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]", "version": "3.9.0"}}"#;

/// The `flake.nix` of a dendritic clan fleet: flake-parts, every file under `modules/` a module
/// (import-tree), clan-core among the inputs. The fleets have it, and so do the test suites'
/// repositories.
pub const FLAKE_NIX: &str = r#"{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
"#;

/// Writes the fleet into `dir` (which should be empty).
pub fn write_fleet(dir: &Path, spec: Spec) -> io::Result<()> {
    let shared = spec.shared.max(1);
    write(dir, "flake.nix", FLAKE_NIX)?;
    for class in ["nixos", "darwin"] {
        for s in 0..shared {
            write(
                dir,
                &format!("modules/{class}/shared-{s}.nix"),
                &format!(
                    "{{ lib, ... }}:\n{{\n  flake.modules.{class}.shared-{s} = {{ pkgs, ... }}: {{\n    environment.systemPackages = [ pkgs.hello ];\n    services.x{s}.enable = lib.mkDefault true;\n  }};\n}}\n"
                ),
            )?;
        }
    }
    let mut inventory =
        String::from("{\n  clan.meta.name = \"synthetic\";\n  clan.inventory.machines = {\n");
    let mut registry = String::from("{ config, ... }:\n{\n");
    write(
        dir,
        "sops/users/admin/key.json",
        "[ { \"publickey\": \"age1admin\", \"type\": \"age\" } ]\n",
    )?;
    for m in 0..spec.machines {
        let class = if m % 2 == 0 { "nixos" } else { "darwin" };
        let picks: Vec<String> = (0..4.min(shared))
            .map(|k| format!("shared-{}", (m + k) % shared))
            .collect();
        let system = if class == "nixos" {
            "x86_64-linux"
        } else {
            "aarch64-darwin"
        };
        write(
            dir,
            &format!("modules/machines/{class}/m{m}/default.nix"),
            &format!(
                "{{ config, inputs, ... }}:\nlet\n  flakeModules = config.flake.modules.{class};\nin\n{{\n  flake.modules.{class}.\"machines/{class}/m{m}\" = {{ pkgs, ... }}: {{\n    imports = [ inputs.srvos.{class}Modules.common ] ++ (with flakeModules; [ {} ]);\n    nixpkgs.hostPlatform = \"{system}\";\n    networking.hostName = \"m{m}\";\n  }};\n}}\n",
                picks.join(" ")
            ),
        )?;
        inventory.push_str(&format!(
            "    m{m} = {{ tags = [ \"t{}\" ]; machineClass = \"{class}\"; }};\n",
            m % 7
        ));
        registry.push_str(&format!(
            "  clan.machines.m{m}.imports = [ config.flake.modules.{class}.\"machines/{class}/m{m}\" ];\n"
        ));
        if class == "nixos" {
            // sshd's `openssh` generator: a deployed secret key and a public key.
            let gen = format!("vars/per-machine/m{m}/openssh");
            write(dir, &format!("{gen}/ssh.id_ed25519/secret"), SOPS)?;
            link(
                dir,
                &format!("{gen}/ssh.id_ed25519/machines/m{m}"),
                &format!("../../../../../../sops/machines/m{m}"),
            )?;
            link(
                dir,
                &format!("{gen}/ssh.id_ed25519/users/admin"),
                "../../../../../../sops/users/admin",
            )?;
            write(
                dir,
                &format!("{gen}/ssh.id_ed25519.pub/value"),
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISYNTHETIC\n",
            )?;
            write(
                dir,
                &format!("sops/machines/m{m}/key.json"),
                "[ { \"publickey\": \"age1machine\", \"type\": \"age\" } ]\n",
            )?;
            // Certificates (sshd's default in current clan-core): a host certificate per
            // machine, signed by the shared CA written below.
            write(
                dir,
                &format!("vars/per-machine/m{m}/openssh-cert/ssh.id_ed25519-cert.pub/value"),
                "ssh-ed25519-cert-v01@openssh.com AAAASYNTHETIC\n",
            )?;
        }
    }
    // The shared certificate authority: not deployed, so no machine links.
    write(dir, "vars/shared/openssh-ca/id_ed25519/secret", SOPS)?;
    link(
        dir,
        "vars/shared/openssh-ca/id_ed25519/users/admin",
        "../../../../../sops/users/admin",
    )?;
    write(
        dir,
        "vars/shared/openssh-ca/id_ed25519.pub/value",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICA\n",
    )?;
    inventory
        .push_str("  };\n  clan.inventory.instances.sshd.roles.server.tags = [ \"nixos\" ];\n}\n");
    registry.push_str("}\n");
    write(dir, "modules/clan/inventory.nix", &inventory)?;
    write(dir, "modules/clan/machines.nix", &registry)?;
    Ok(())
}
