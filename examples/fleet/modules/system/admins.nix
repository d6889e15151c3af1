# Who may log in to the servers. The accounts themselves come from the clan `users`
# instances (modules/clan/inventory/services/users/); ada holds a role on every
# NixOS machine, so her keys can live in the shared base module.
{ config, ... }:
let
  identities = config.flake.lib.identities;
in
{
  flake.modules.nixos.base = {
    users.users.root.openssh.authorizedKeys.keys = identities.ada.sshKeys;
    users.users.ada.openssh.authorizedKeys.keys = identities.ada.sshKeys;
    security.sudo.wheelNeedsPassword = false;
  };
}
