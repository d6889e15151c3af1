# Plain home-manager module (not a flake-parts module; see the leading underscore).
{ lib, pkgs, ... }:
{
  home.shellAliases = {
    ll = "ls -lah";
    gs = "git status --short";
    gl = "git log --oneline --graph --decorate -n 20";
    ".." = "cd ..";
    nfu = "nix flake update";
  }
  // lib.optionalAttrs pkgs.stdenv.hostPlatform.isDarwin {
    flushdns = "sudo dscacheutil -flushcache && sudo killall -HUP mDNSResponder";
  };
}
