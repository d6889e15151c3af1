# Our own clan service (modules/clan/services/binary-cache), exported by this flake
# as `clan.modules.binary-cache`, hence `input = "self"`.
{
  clan.inventory.instances.binary-cache = {
    module = {
      name = "binary-cache";
      input = "self";
    };

    roles.default.machines.xenon.settings = {
      keyName = "cache.periodic.example.org-1";
      port = 5000;
      openFirewall = true;
    };
  };
}
