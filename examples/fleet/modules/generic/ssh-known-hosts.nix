# Pin the servers' SSH host keys on every machine, servers and workstations alike
# (the workstations do not take part in the sshd service, so they get no CA trust
# from it). The keys are read from the public vars of the sshd `openssh` generator.
{
  flake.modules.generic.ssh-known-hosts =
    { lib, ... }:
    let
      servers = [
        "argon"
        "krypton"
        "xenon"
        "radon"
      ];
      hostKey =
        machine:
        lib.fileContents (../../vars/per-machine + "/${machine}/openssh/ssh.id_ed25519.pub/value");
    in
    {
      programs.ssh.knownHosts = lib.genAttrs servers (machine: {
        hostNames = [
          machine
          "${machine}.periodic.example.org"
        ];
        publicKey = hostKey machine;
      });
    };
}
