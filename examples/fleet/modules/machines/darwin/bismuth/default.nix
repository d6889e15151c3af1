# bismuth: Rowan's MacBook Pro.
{ config, inputs, ... }:
let
  flakeModules = config.flake.modules.darwin;
  flakeModulesHome = config.flake.modules.homeManager;
  genericModules = config.flake.modules.generic;
  identities = config.flake.lib.identities;
in
{
  flake.modules.darwin."machines/darwin/bismuth" = {
    imports = [
      inputs.home-manager.darwinModules.home-manager
      inputs.srvos.darwinModules.common
      genericModules.ssh-known-hosts
    ]
    ++ (with flakeModules; [
      base
      homebrew
      system-defaults
      remote-builder
    ]);

    nixpkgs.hostPlatform = "aarch64-darwin";
    networking.hostName = "bismuth";
    networking.computerName = "bismuth";
    system.primaryUser = "rowan";
    clan.core.networking.targetHost = "rowan@bismuth.periodic.example.org";

    users.users.rowan = {
      uid = 501;
      home = "/Users/rowan";
      description = identities.rowan.fullName;
      openssh.authorizedKeys.keys = identities.rowan.sshKeys;
    };

    home-manager = {
      useGlobalPkgs = true;
      useUserPackages = true;
      backupFileExtension = "before-home-manager";
      users.rowan.imports = [
        flakeModulesHome."users/rowan"
        flakeModulesHome.base
        flakeModulesHome.shell
      ];
    };
  };
}
