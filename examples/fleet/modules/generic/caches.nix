# `generic` modules have no class: the same module is imported by NixOS machines
# (through nixos.base, modules/system/nix-settings.nix) and by darwin machines
# (through darwin.base, modules/darwin/base.nix). Only options that exist on both
# platforms belong here.
let
  caches = import ../../lib/caches.nix;
in
{
  flake.modules.generic.caches = {
    nix.settings = {
      extra-substituters = caches.substituters;
      extra-trusted-public-keys = caches.publicKeys;
    };
  };
}
