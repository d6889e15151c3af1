# Nightly restic backup of argon's state to the REST server on krypton.
{
  flake.modules.nixos."machines/nixos/argon" =
    { config, pkgs, ... }:
    {
      clan.core.vars.generators.restic-offsite = {
        files."password" = { };
        runtimeInputs = [
          pkgs.coreutils
          pkgs.xkcdpass
        ];
        script = ''
          xkcdpass --numwords 6 --delimiter - --count 1 | tr -d "\n" > "$out"/password
        '';
      };

      services.restic.backups.krypton = {
        repository = "rest:http://krypton.periodic.example.org:8000/argon";
        passwordFile = config.clan.core.vars.generators.restic-offsite.files."password".path;
        initialize = true;
        paths = [
          "/var/lib"
          "/root"
        ];
        exclude = [ "/var/lib/prometheus2/data/wal" ];
        timerConfig = {
          OnCalendar = "daily";
          Persistent = true;
          RandomizedDelaySec = "1h";
        };
      };
    };
}
