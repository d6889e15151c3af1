# The eight machines of the clan. Besides the tags listed here every machine carries
# the built-in tags `all` and `nixos` or `darwin` (from machineClass).
#
# NixOS servers are deployed over SSH as root (`deploy.targetHost`); the darwin
# workstations set `clan.core.networking.targetHost` in their own machine module instead.
{
  clan.inventory.machines = {
    argon = {
      description = "Hetzner VPS: zerotier controller, prometheus, restic client";
      tags = [
        "server"
        "hetzner"
      ];
      deploy.targetHost = "root@argon.periodic.example.org";
    };
    krypton = {
      description = "Hetzner VPS: restic REST server (append-only backup target)";
      machineClass = "nixos";
      tags = [
        "server"
        "hetzner"
        "zt-peer"
        "backup"
      ];
      deploy.targetHost = "root@krypton.periodic.example.org";
    };
    xenon = {
      description = "GCP compute VM: remote builder and binary cache";
      tags = [
        "server"
        "gcp"
        "zt-peer"
        "builder"
      ];
      deploy.targetHost = "root@xenon.periodic.example.org";
    };
    radon = {
      description = "GCP GPU VM: CUDA workloads";
      tags = [
        "server"
        "gcp"
        "gpu"
        "zt-peer"
      ];
      deploy.targetHost = "root@radon.periodic.example.org";
    };

    cobalt = {
      description = "Ada's MacBook Pro";
      machineClass = "darwin";
      tags = [
        "workstation"
        "laptop"
      ];
    };
    indium = {
      description = "Ada's Mac mini";
      machineClass = "darwin";
      tags = [
        "workstation"
        "desktop"
      ];
    };
    gallium = {
      description = "Rowan's MacBook Air";
      machineClass = "darwin";
      tags = [
        "workstation"
        "laptop"
      ];
    };
    bismuth = {
      description = "Rowan's MacBook Pro";
      machineClass = "darwin";
      tags = [
        "workstation"
        "laptop"
      ];
    };
  };
}
