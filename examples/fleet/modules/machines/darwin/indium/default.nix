# indium: Ada's Mac mini, always on at home.
{ config, inputs, ... }:
let
  flakeModules = config.flake.modules.darwin;
  flakeModulesHome = config.flake.modules.homeManager;
  identities = config.flake.lib.identities;
in
{
  flake.modules.darwin."machines/darwin/indium" = {
    imports = [
      inputs.home-manager.darwinModules.home-manager
      inputs.srvos.darwinModules.common
      config.flake.modules.generic.ssh-known-hosts
    ]
    ++ (with flakeModules; [
      base
      system-defaults
      remote-builder
    ]);

    nixpkgs.hostPlatform = "aarch64-darwin";
    networking.hostName = "indium";
    networking.computerName = "indium";
    system.primaryUser = "ada";
    clan.core.networking.targetHost = "ada@indium.periodic.example.org";

    users.users.ada = {
      uid = 501;
      home = "/Users/ada";
      description = identities.ada.fullName;
      openssh.authorizedKeys.keys = identities.ada.sshKeys;
    };

    # headless most of the time
    system.defaults.screensaver.askForPassword = true;

    home-manager = {
      useGlobalPkgs = true;
      useUserPackages = true;
      backupFileExtension = "before-home-manager";
      users.ada.imports = [
        flakeModulesHome."users/ada"
        flakeModulesHome.base
        flakeModulesHome.shell
      ];
    };
  };
}
