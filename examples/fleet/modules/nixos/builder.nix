# Remote builder for the workstations. Each darwin machine generates its own client
# key (flake.modules.darwin.remote-builder); the public halves are read from vars.
{ inputs, ... }:
let
  workstations = [
    "cobalt"
    "indium"
    "gallium"
    "bismuth"
  ];
in
{
  flake.modules.nixos.builder =
    { lib, ... }:
    let
      clientKey =
        machine:
        lib.fileContents (
          inputs.self + "/vars/per-machine/${machine}/remote-builder-ssh/id_ed25519.pub/value"
        );
    in
    {
      users.users.nix-remote = {
        isSystemUser = true;
        group = "nix-remote";
        useDefaultShell = true;
        openssh.authorizedKeys.keys = map clientKey workstations;
      };
      users.groups.nix-remote = { };

      nix.settings = {
        trusted-users = [ "nix-remote" ];
        system-features = [
          "benchmark"
          "big-parallel"
          "kvm"
          "nixos-test"
        ];
        max-jobs = "auto";
      };

      # lets the aarch64 workstations offload aarch64-linux builds too
      boot.binfmt.emulatedSystems = [ "aarch64-linux" ];
    };
}
