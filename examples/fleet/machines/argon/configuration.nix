# clan-core imports `machines/<name>/configuration.nix` into that machine by itself (with
# `hardware-configuration.nix` and `disko.nix` on NixOS): no `clan.machines.argon` entry
# names this file. Machine-local settings that are not worth a deferred module live here.
{ config, pkgs, ... }:
{
  # A stable public id for the fleet's inventory exporter on argon.
  clan.core.vars.generators.node-id = {
    files.id.secret = false;
    runtimeInputs = [ pkgs.util-linux ];
    script = ''
      uuidgen > "$out"/id
    '';
  };

  environment.etc."fleet/node-id".source =
    config.clan.core.vars.generators.node-id.files.id.path;
}
