# krypton: Hetzner cloud VPS, backup target (./restic-server.nix), zerotier peer.
{ config, inputs, ... }:
let
  flakeModules = config.flake.modules.nixos;
  genericModules = config.flake.modules.generic;
in
{
  flake.modules.nixos."machines/nixos/krypton" = {
    imports = [
      inputs.srvos.nixosModules.server
      inputs.srvos.nixosModules.hardware-hetzner-cloud
      genericModules.ssh-known-hosts
    ]
    ++ (with flakeModules; [
      base
      monitoring
    ]);

    nixpkgs.hostPlatform = "x86_64-linux";
    networking.hostName = "krypton";
    periodic.role = "backup";
    system.stateVersion = "25.11";
  };
}
