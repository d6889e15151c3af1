# infra-check as a Nix package: `pkgs.callPackage ./nix/package.nix { }`.
{
  lib,
  rustPlatform,
}:
rustPlatform.buildRustPackage {
  pname = "infra-check";
  # One version, the workspace's.
  version = (lib.importTOML ../Cargo.toml).workspace.package.version;
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../crates
      ../examples
      ../tests
    ];
  };
  cargoLock.lockFile = ../Cargo.lock;
  cargoBuildFlags = [ "--package" "infra-check" ];
  # The test suite drives nix, neovim, graphviz and direnv; run it in the repository's CI.
  doCheck = false;
  meta = {
    description = "Static checks for dendritic flake-parts repositories with a clan-core inventory";
    mainProgram = "infra-check";
    license = with lib.licenses; [ mit asl20 ];
  };
}
