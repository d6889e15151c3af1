{
  flake.modules.homeManager.development =
    { pkgs, ... }:
    {
      home.packages = with pkgs; [
        gh
        just
        nil
        nixfmt
      ];
      programs.helix = {
        enable = true;
        defaultEditor = true;
      };
    };
}
