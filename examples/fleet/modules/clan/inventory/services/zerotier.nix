# Private overlay network between the servers.
# clan-core's zerotier service has no darwin module, so the peer role is given by the
# `zt-peer` tag, which only NixOS machines carry (never `all`).
{
  clan.inventory.instances.zerotier = {
    module = {
      name = "zerotier";
      input = "clan-core";
    };

    # Exactly one controller per network.
    roles.controller.machines.argon = { };

    roles.peer.tags.zt-peer = { };
  };
}
