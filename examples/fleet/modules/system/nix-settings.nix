# Nix daemon settings for both platforms: one file, two classes.
# The binary caches come from the generic module, shared by nixos and darwin.
{ config, ... }:
let
  genericModules = config.flake.modules.generic;
in
{
  flake.modules = {
    nixos.base =
      { lib, ... }:
      {
        imports = [ genericModules.caches ];

        nix.settings = {
          experimental-features = [
            "nix-command"
            "flakes"
          ];
          trusted-users = [
            "root"
            "@wheel"
          ];
          auto-optimise-store = true;
        };
        nix.gc = {
          automatic = true;
          dates = "weekly";
          options = "--delete-older-than 14d";
        };
        nix.channel.enable = lib.mkDefault false;
      };

    darwin.base = {
      nix.settings = {
        experimental-features = [
          "nix-command"
          "flakes"
        ];
        trusted-users = [
          "root"
          "@admin"
        ];
      };
      nix.gc = {
        automatic = true;
        interval = [
          {
            Weekday = 0;
            Hour = 3;
            Minute = 15;
          }
        ];
        options = "--delete-older-than 14d";
      };
      nix.optimise.automatic = true;
    };
  };
}
