# Registers each per-host deferred module as a clan machine. The class of the module
# must agree with `machineClass` in ./inventory/machines.nix.
{ config, ... }:
{
  clan.machines = {
    # NixOS servers
    argon.imports = [ config.flake.modules.nixos."machines/nixos/argon" ];
    krypton.imports = [ config.flake.modules.nixos."machines/nixos/krypton" ];
    xenon.imports = [ config.flake.modules.nixos."machines/nixos/xenon" ];
    radon.imports = [ config.flake.modules.nixos."machines/nixos/radon" ];

    # macOS workstations
    cobalt.imports = [ config.flake.modules.darwin."machines/darwin/cobalt" ];
    indium.imports = [ config.flake.modules.darwin."machines/darwin/indium" ];
    gallium.imports = [ config.flake.modules.darwin."machines/darwin/gallium" ];
    bismuth.imports = [ config.flake.modules.darwin."machines/darwin/bismuth" ];
  };
}
