# cobalt: Ada's MacBook Pro, her main machine.
{ config, inputs, ... }:
let
  flakeModules = config.flake.modules.darwin;
  flakeModulesHome = config.flake.modules.homeManager;
  genericModules = config.flake.modules.generic;
  identities = config.flake.lib.identities;
in
{
  flake.modules.darwin."machines/darwin/cobalt" = {
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
    networking.hostName = "cobalt";
    networking.computerName = "cobalt";
    system.primaryUser = "ada";

    # darwin machines have no deploy.targetHost in the inventory
    clan.core.networking.targetHost = "ada@cobalt.periodic.example.org";

    users.users.ada = {
      uid = 501;
      home = "/Users/ada";
      description = identities.ada.fullName;
      openssh.authorizedKeys.keys = identities.ada.sshKeys;
    };

    homebrew.casks = [
      "1password"
      "orbstack"
    ];

    home-manager = {
      useGlobalPkgs = true;
      useUserPackages = true;
      backupFileExtension = "before-home-manager";
      users.ada.imports = [
        flakeModulesHome."users/ada"
        flakeModulesHome.base
        flakeModulesHome.shell
        flakeModulesHome.development
        # also imported by homeManager.shell; the module system loads it once
        ../../../home/modules/_shell-aliases.nix
      ];
    };
  };
}
