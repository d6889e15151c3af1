# Plain data, as an inventory written in Nix.
let
  prod = [ "prod" ];
in
{
  machines = {
    alpha = {
      tags = [ "web" ] ++ prod;
      deploy.targetHost = "root@alpha";
    };
    beta = {
      tags = prod;
      machineClass = "darwin";
    };
  };
  settings = rec {
    domain = "example.org";
    fqdn = "alpha.${domain}";
  };
}
