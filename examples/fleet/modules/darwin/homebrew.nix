# GUI applications that are not packaged in nixpkgs. Machines add their own casks.
{
  flake.modules.darwin.homebrew = {
    homebrew = {
      enable = true;
      onActivation = {
        autoUpdate = false;
        cleanup = "zap";
      };
      casks = [
        "ghostty"
        "raycast"
        "firefox"
      ];
    };
  };
}
