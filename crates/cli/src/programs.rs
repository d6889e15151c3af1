//! Finding the programs infra-check runs (`nix`, `just`, `direnv`, `clan`, …) on `PATH`, and
//! the message that says how to get one that is missing.

use std::path::{Path, PathBuf};

/// The first executable file called `name` in a directory of PATH.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// How to get `program` when it is not on PATH, as a sentence.
pub fn how_to_get(program: &str) -> &'static str {
    match program {
        "nix" | "nix-build" => "Install Nix (https://nixos.org/download), or run infra-check from a shell that has it.",
        "clan" => "Run infra-check inside the repository's dev shell (`nix develop`, or direnv with an `.envrc` that loads it), or install clan-cli (`nix profile install git+https://git.clan.lol/clan/clan-core#clan-cli`).",
        "just" => "Install just (https://just.systems: `cargo install just`, `pip install rust-just`, or your distribution's `just` package).",
        "direnv" => "Install direnv (https://direnv.net, e.g. `apt install direnv`), or remove the repository's `.envrc` if the commands do not need it.",
        "nixos-rebuild" => "Run it from a NixOS machine or a shell that has nixos-rebuild (`nix shell nixpkgs#nixos-rebuild`).",
        "darwin-rebuild" => "Run it on the nix-darwin machine itself, where nix-darwin installs darwin-rebuild.",
        _ => "Install it, or run infra-check from a shell whose PATH has it.",
    }
}
