{ config, ... }:
let
  rowan = config.flake.lib.identities.rowan;
in
{
  flake.modules.homeManager."users/rowan" =
    { pkgs, ... }:
    {
      programs.git.settings.user = {
        name = rowan.fullName;
        email = rowan.email;
      };
      home.packages = [ pkgs.uv ];
    };
}
