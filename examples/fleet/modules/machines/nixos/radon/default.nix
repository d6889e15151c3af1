# radon: GCP VM with an NVIDIA GPU, for rowan's CUDA jobs.
{ config, inputs, ... }:
let
  flakeModules = config.flake.modules.nixos;
  genericModules = config.flake.modules.generic;
  identities = config.flake.lib.identities;
in
{
  flake.modules.nixos."machines/nixos/radon" =
    { modulesPath, ... }:
    {
      imports = [
        "${modulesPath}/profiles/qemu-guest.nix"
        inputs.srvos.nixosModules.server
        genericModules.ssh-known-hosts
      ]
      ++ (with flakeModules; [
        base
        monitoring
        nvidia
      ]);

      nixpkgs.hostPlatform = "x86_64-linux";
      networking.hostName = "radon";
      periodic.role = "gpu";
      system.stateVersion = "25.11";

      boot.loader.grub = {
        enable = true;
        efiSupport = true;
        efiInstallAsRemovable = true;
      };

      users.users.rowan.openssh.authorizedKeys.keys = identities.rowan.sshKeys;
    };
}
