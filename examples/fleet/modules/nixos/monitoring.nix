# node-exporter on every server, reachable over the zerotier interface only;
# argon scrapes them (modules/machines/nixos/argon/default.nix). Machines describe themselves
# through the fleet's own `periodic.*` options, which the exporter labels carry.
{
  flake.modules.nixos.monitoring =
    { config, lib, ... }:
    {
      options.periodic = {
        role = lib.mkOption {
          type = lib.types.enum [
            "gateway"
            "backup"
            "builder"
            "gpu"
          ];
          description = "What this server is for; shown on the fleet dashboard.";
        };
        exporterPort = lib.mkOption {
          type = lib.types.port;
          default = 9100;
          description = "Port of the node exporter on the zerotier interface.";
        };
        scrape = lib.mkEnableOption "scraping every other server from this one";
      };

      config = {
        services.prometheus.exporters.node = {
          enable = true;
          port = config.periodic.exporterPort;
          enabledCollectors = [
            "systemd"
            "processes"
          ];
        };
        networking.firewall.interfaces."zt+".allowedTCPPorts = [ config.periodic.exporterPort ];
      };
    };
}
