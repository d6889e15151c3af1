# Stable host keys and CA-signed host certificates for *.periodic.example.org.
# The sshd service is NixOS-only: both roles go to the built-in `nixos` tag.
# The workstations trust the host keys through flake.modules.generic.ssh-known-hosts.
{
  clan.inventory.instances.sshd = {
    module = {
      name = "sshd";
      input = "clan-core";
    };

    roles.server.tags.nixos = { };
    roles.server.settings.certificate.searchDomains = [ "periodic.example.org" ];

    roles.client.tags.nixos = { };
    roles.client.settings.certificate.searchDomains = [ "periodic.example.org" ];
  };
}
