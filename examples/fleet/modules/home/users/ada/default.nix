{ config, ... }:
let
  ada = config.flake.lib.identities.ada;
in
{
  flake.modules.homeManager."users/ada" = {
    programs.git.settings.user = {
      name = ada.fullName;
      email = ada.email;
    };
    home.sessionVariables.PAGER = "less -FR";
  };
}
