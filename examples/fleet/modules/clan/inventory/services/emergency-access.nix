# Root password for the initrd / emergency shell (console access through the
# provider's web console). NixOS-only, like the service itself.
{
  clan.inventory.instances.emergency-access = {
    module = {
      name = "emergency-access";
      input = "clan-core";
    };

    roles.default.tags.nixos = { };
  };
}
