# Rowan works on the compute machines only.
{
  clan.inventory.instances.user-rowan = {
    module = {
      name = "users";
      input = "clan-core";
    };

    roles.default.machines.xenon = { };
    roles.default.machines.radon = { };

    roles.default.settings = {
      user = "rowan";
      groups = [
        "video"
        "render"
      ];
      share = true;
      prompt = false;
    };
  };
}
