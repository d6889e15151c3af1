# Append-only restic REST server; argon pushes its nightly backup here.
# Only reachable over the zerotier network.
{
  flake.modules.nixos."machines/nixos/krypton" = {
    services.restic.server = {
      enable = true;
      listenAddress = "8000";
      appendOnly = true;
      dataDir = "/srv/restic";
      extraFlags = [ "--no-auth" ];
    };
    networking.firewall.interfaces."zt+".allowedTCPPorts = [ 8000 ];
  };
}
