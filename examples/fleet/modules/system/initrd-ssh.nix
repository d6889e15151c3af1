# Remote unlock / rescue over SSH in the initrd, with a host key of its own
# (a machine-level vars generator: every NixOS machine importing `base` gets it).
{ config, ... }:
let
  identities = config.flake.lib.identities;
in
{
  flake.modules.nixos.base =
    { config, pkgs, ... }:
    {
      clan.core.vars.generators.initrd-ssh = {
        files."id_ed25519".neededFor = "activation";
        files."id_ed25519.pub".secret = false;
        runtimeInputs = [
          pkgs.coreutils
          pkgs.openssh
        ];
        script = ''
          ssh-keygen -t ed25519 -N "" -f "$out"/id_ed25519
        '';
      };

      boot.initrd.systemd.enable = true;
      boot.initrd.network = {
        enable = true;
        ssh = {
          enable = true;
          port = 2222;
          hostKeys = [ config.clan.core.vars.generators.initrd-ssh.files."id_ed25519".path ];
          authorizedKeys = identities.ada.sshKeys;
        };
      };
    };
}
