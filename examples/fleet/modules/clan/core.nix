# clan-core's flake-parts module: provides the `clan` option tree and turns
# `clan.machines` into nixosConfigurations / darwinConfigurations.
# ./meta.nix is also loaded by import-tree; importing it here as well is harmless
# (the module system deduplicates modules imported by path).
{ inputs, ... }:
{
  imports = [
    inputs.clan-core.flakeModules.default
    ./meta.nix
  ];
}
