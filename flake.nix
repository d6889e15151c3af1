{
  description = "infra-check: static checks for dendritic flake-parts repositories with a clan-core inventory";

  # No flake.lock is committed: Nix writes one on first use (`nix flake lock` pins it).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      perSystem = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system} system);
    in
    {
      packages = perSystem (
        pkgs: _: rec {
          infra-check = pkgs.callPackage ./nix/package.nix { };
          default = infra-check;
        }
      );

      apps = perSystem (
        _: system: {
          default = {
            type = "app";
            program = "${self.packages.${system}.default}/bin/infra-check";
            meta.description = "Run infra-check (`nix run . -- check .`)";
          };
        }
      );

      # What the test suite drives, besides the Rust toolchain: nix (evaluator differential
      # tests, `options dump`), neovim and emacs (editor end-to-end tests), graphviz (`graph`),
      # direnv and just (deploy), node (the VS Code extension).
      devShells = perSystem (
        pkgs: _: {
          default = pkgs.mkShell {
            packages = with pkgs; [
              cargo
              rustc
              clippy
              rustfmt
              rust-analyzer
              nix
              neovim
              emacs-nox
              graphviz
              direnv
              just
              nodejs
            ];
          };
        }
      );

      checks = perSystem (
        pkgs: system:
        let
          infra-check = self.packages.${system}.default;
        in
        {
          package = infra-check;
          # The built binary on the embedded example, which checks clean, and on this
          # repository (what `flakeModules.default` gives other flakes).
          example-fleet = pkgs.runCommand "infra-check-example-fleet" { } ''
            ${infra-check}/bin/infra-check check ${./examples/fleet} --deny-warnings
            touch $out
          '';
          repository = pkgs.runCommand "infra-check-repository" { } ''
            ${infra-check}/bin/infra-check check ${self} --deny-warnings
            touch $out
          '';
        }
      );

      # `imports = [ inputs.infra-check.flakeModules.default ];` in a flake-parts flake adds
      # `packages.<system>.infra-check` and `checks.<system>.infra-check`.
      flakeModules.default = ./nix/flake-module.nix;
    };
}
