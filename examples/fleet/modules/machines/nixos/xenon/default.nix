# xenon: GCP compute VM. Remote builder for the workstations and binary cache
# (the binary-cache instance runs nix-serve here).
{ config, inputs, ... }:
let
  flakeModules = config.flake.modules.nixos;
  identities = config.flake.lib.identities;
in
{
  flake.modules.nixos."machines/nixos/xenon" =
    { modulesPath, ... }:
    {
      imports = [
        "${modulesPath}/profiles/qemu-guest.nix"
        inputs.srvos.nixosModules.server
        inputs.self.modules.nixos.builder
        inputs.self.modules.generic.ssh-known-hosts
      ]
      ++ (with flakeModules; [
        base
        monitoring
      ]);

      nixpkgs.hostPlatform = "x86_64-linux";
      networking.hostName = "xenon";
      periodic.role = "builder";
      system.stateVersion = "25.11";

      boot.loader.grub = {
        enable = true;
        efiSupport = true;
        efiInstallAsRemovable = true;
      };

      users.users.rowan.openssh.authorizedKeys.keys = identities.rowan.sshKeys;
    };
}
