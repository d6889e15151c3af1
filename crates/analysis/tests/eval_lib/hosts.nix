# A file taking `lib`, as inventory modules do: `import ./hosts.nix { inherit lib; }`.
{ lib }:
let
  names = [ "a" "b" "c" ];
in
{
  machines = lib.genAttrs names (n: {
    tags = [ "all" ] ++ lib.optional (n != "c") "server";
    machineClass = lib.mkDefault "nixos";
  });
  services = lib.mkMerge [
    (lib.mkIf true { ssh.enable = true; })
    { borg.enable = lib.mkForce false; }
  ];
}
