# A small clan service: serve a machine's Nix store as a signed binary cache.
# Instances refer to it with `module = { name = "binary-cache"; input = "self"; }`.
{
  clan.modules.binary-cache =
    { ... }:
    {
      _class = "clan.service";
      manifest.name = "periodic/binary-cache";
      manifest.description = "Serves the Nix store of a machine as a signed binary cache (nix-serve)";
      manifest.categories = [ "Development" ];
      manifest.readme = builtins.readFile ./README.md;

      roles.default = {
        description = "Runs nix-serve and signs store paths with a generated key.";

        interface =
          { lib, ... }:
          {
            options.keyName = lib.mkOption {
              type = lib.types.str;
              example = "cache.example.org-1";
              description = ''
                Name of the signing key. Clients list the public key as
                `<keyName>:<base64>` in `trusted-public-keys`.
              '';
            };
            options.port = lib.mkOption {
              type = lib.types.port;
              default = 5000;
              description = "TCP port nix-serve listens on.";
            };
            options.bindAddress = lib.mkOption {
              type = lib.types.str;
              default = "[::]";
              description = "Address nix-serve binds to.";
            };
            options.openFirewall = lib.mkOption {
              type = lib.types.bool;
              default = false;
              description = "Whether to open `port` in the firewall.";
            };
          };

        perInstance =
          { settings, ... }:
          {
            nixosModule =
              {
                config,
                pkgs,
                lib,
                ...
              }:
              let
                signingKey = config.clan.core.vars.generators.binary-cache-signing-key;
              in
              {
                clan.core.vars.generators.binary-cache-signing-key = {
                  files."key" = {
                    neededFor = "services";
                    restartUnits = [ "nix-serve.service" ];
                  };
                  files."key.pub".secret = false;
                  # Renaming the key regenerates it.
                  validation.keyName = settings.keyName;
                  runtimeInputs = [ pkgs.nix ];
                  script = ''
                    nix --extra-experimental-features nix-command \
                      key generate-secret --key-name ${lib.escapeShellArg settings.keyName} > "$out"/key
                    nix --extra-experimental-features nix-command \
                      key convert-secret-to-public < "$out"/key > "$out"/key.pub
                  '';
                };

                services.nix-serve = {
                  enable = true;
                  inherit (settings) port bindAddress openFirewall;
                  secretKeyFile = signingKey.files."key".path;
                };
              };
          };
      };
    };
}
