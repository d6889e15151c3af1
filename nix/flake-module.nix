# A flake-parts module for repositories that want infra-check in `nix flake check`, exported by
# the root flake as `flakeModules.default`:
#
#   imports = [ inputs.infra-check.flakeModules.default ];
#
# adds `checks.<system>.infra-check`, which runs `infra-check check --deny-warnings` on the
# flake's source (infra-check never evaluates the repository, so this check is fast and safe),
# and `packages.<system>.infra-check`, built with the importing flake's nixpkgs.
{ self, ... }:
{
  perSystem =
    { pkgs, ... }:
    let
      infra-check = pkgs.callPackage ./package.nix { };
    in
    {
      packages.infra-check = infra-check;
      checks.infra-check = pkgs.runCommand "infra-check" { nativeBuildInputs = [ infra-check ]; } ''
        infra-check check ${self} --deny-warnings --format human
        touch $out
      '';
    };
}
