# argon: Hetzner cloud VPS. Zerotier controller (see the zerotier instance),
# prometheus for the fleet, restic client (./backup.nix).
{ config, inputs, ... }:
let
  flakeModules = config.flake.modules.nixos;
  flakeModulesHome = config.flake.modules.homeManager;
  genericModules = config.flake.modules.generic;
in
{
  flake.modules.nixos."machines/nixos/argon" =
    { pkgs, ... }:
    {
      imports = [
        inputs.srvos.nixosModules.server
        inputs.srvos.nixosModules.hardware-hetzner-cloud
        inputs.home-manager.nixosModules.home-manager
        genericModules.ssh-known-hosts
      ]
      ++ (with flakeModules; [
        base
        monitoring
      ]);

      nixpkgs.hostPlatform = "x86_64-linux";
      networking.hostName = "argon";
      periodic.role = "gateway";
      periodic.scrape = true;
      system.stateVersion = "25.11";

      services.prometheus = {
        enable = true;
        retentionTime = "30d";
        scrapeConfigs = [
          {
            job_name = "node";
            static_configs = [
              {
                targets = map (host: "${host}.periodic.example.org:9100") [
                  "argon"
                  "krypton"
                  "xenon"
                  "radon"
                ];
              }
            ];
          }
        ];
      };

      # ada administers the fleet from here as well
      home-manager = {
        useGlobalPkgs = true;
        useUserPackages = true;
        users.ada.imports = [
          flakeModulesHome."users/ada"
          flakeModulesHome.base
          flakeModulesHome.shell
        ];
      };
      users.users.ada.shell = pkgs.zsh;
    };
}
