# Home-manager modules are only ever imported inside `home-manager.users.<user>.imports`
# of a machine module (see modules/machines/*/*/default.nix).
{
  flake.modules.homeManager.base =
    { lib, pkgs, ... }:
    {
      home.stateVersion = lib.mkDefault "25.11";
      programs.home-manager.enable = true;
      xdg.enable = true;

      home.packages = with pkgs; [
        fd
        ripgrep
        tree
      ];

      programs.bat.enable = true;
      programs.fzf.enable = true;
      programs.jq.enable = true;
    };
}
