# gallium: Rowan's MacBook Air. Refers to the shared modules through the flake's
# own outputs (`self.modules.<class>`), which flake-parts passes as `self`.
{ self, inputs, ... }:
let
  identities = self.lib.identities;
in
{
  flake.modules.darwin."machines/darwin/gallium" = {
    imports = [
      inputs.home-manager.darwinModules.home-manager
      inputs.srvos.darwinModules.common
      self.modules.generic.ssh-known-hosts
      self.modules.darwin.base
      self.modules.darwin.homebrew
      self.modules.darwin.system-defaults
      self.modules.darwin.remote-builder
    ];

    nixpkgs.hostPlatform = "aarch64-darwin";
    networking.hostName = "gallium";
    networking.computerName = "gallium";
    system.primaryUser = "rowan";
    clan.core.networking.targetHost = "rowan@gallium.periodic.example.org";

    users.users.rowan = {
      uid = 501;
      home = "/Users/rowan";
      description = identities.rowan.fullName;
      openssh.authorizedKeys.keys = identities.rowan.sshKeys;
    };

    homebrew.casks = [ "visual-studio-code" ];

    home-manager = {
      useGlobalPkgs = true;
      useUserPackages = true;
      backupFileExtension = "before-home-manager";
      users.rowan.imports = [
        self.modules.homeManager."users/rowan"
        self.modules.homeManager.base
        self.modules.homeManager.shell
        self.modules.homeManager.development
      ];
    };
  };
}
