# `direnv allow` (see .envrc) drops you into this shell.
{
  perSystem =
    { pkgs, inputs', ... }:
    {
      devShells.default = pkgs.mkShell {
        name = "periodic";
        packages = [
          inputs'.clan-core.packages.clan-cli
          pkgs.age
          pkgs.just
          pkgs.nixfmt
          pkgs.sops
        ];
      };
    };
}
