# What every workstation shares. Further fragments of darwin.base live in
# modules/system/{nix-settings,shell}.nix and modules/darwin/touch-id.nix.
{ config, ... }:
let
  genericModules = config.flake.modules.generic;
in
{
  flake.modules = {
    darwin.base =
      { pkgs, ... }:
      {
        imports = [ genericModules.caches ];

        system.stateVersion = 6;

        fonts.packages = [ pkgs.nerd-fonts.jetbrains-mono ];

        system.defaults.loginwindow.GuestEnabled = false;
      };
  };
}
