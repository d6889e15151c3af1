# Ada's account on the servers. The users service only has a NixOS module; on the
# workstations the account is declared in the machine module (users.users.ada).
{
  clan.inventory.instances.user-ada = {
    module = {
      name = "users";
      input = "clan-core";
    };

    roles.default.machines = {
      argon = { };
      krypton = { };
      xenon = { };
      radon = { };
    };

    roles.default.settings = {
      user = "ada";
      groups = [
        "wheel"
        "systemd-journal"
      ];
      # one password for all four servers: vars/shared/user-password-ada
      share = true;
      prompt = false;
    };
  };
}
