# Login shell and a handful of tools every machine should have.
{
  flake.modules = {
    nixos.base =
      { pkgs, ... }:
      {
        programs.zsh.enable = true;
        environment.systemPackages = with pkgs; [
          curl
          git
          htop
          jq
          rsync
        ];
      };
    darwin.base =
      { pkgs, ... }:
      {
        programs.zsh.enable = true;
        environment.systemPackages = with pkgs; [
          coreutils
          git
          gnused
          wget
        ];
      };
  };
}
