{
  flake.modules.homeManager.shell = {
    # A plain home-manager module: its name starts with "_", so import-tree does not
    # load it as a flake-parts module; it is imported here (and by cobalt) by path.
    imports = [ ./_shell-aliases.nix ];

    programs.zsh = {
      enable = true;
      autosuggestion.enable = true;
      syntaxHighlighting.enable = true;
      history.size = 50000;
    };
    programs.starship.enable = true;
    programs.zoxide.enable = true;
    programs.direnv = {
      enable = true;
      nix-direnv.enable = true;
    };
  };
}
