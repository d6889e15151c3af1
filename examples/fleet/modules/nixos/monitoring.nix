# node-exporter on every server, reachable over the zerotier interface only;
# argon scrapes them (modules/machines/nixos/argon/default.nix).
{
  flake.modules.nixos.monitoring = {
    services.prometheus.exporters.node = {
      enable = true;
      port = 9100;
      enabledCollectors = [
        "systemd"
        "processes"
      ];
    };
    networking.firewall.interfaces."zt+".allowedTCPPorts = [ 9100 ];
  };
}
