# Binary caches trusted by every machine, NixOS and darwin alike.
# Plain data, not a module: imported by modules/generic/caches.nix.
# Keep in sync with nixConfig in ../flake.nix.
{
  substituters = [
    "https://nix-community.cachix.org"
    # nix-serve on xenon, see modules/clan/inventory/services/binary-cache.nix
    "http://xenon.periodic.example.org:5000"
  ];
  publicKeys = [
    "nix-community.cachix.org-1:mB9FSh9qf2dCimDSUo8Zy7bkq5CX+/rkCWyvRCYg3Fs="
    # = vars/per-machine/xenon/binary-cache-signing-key/key.pub/value
    "cache.periodic.example.org-1:WEr4i/RMPGFF99918d6x0O/PPyrd0Oc+bR1UZfxrIdE="
  ];
}
