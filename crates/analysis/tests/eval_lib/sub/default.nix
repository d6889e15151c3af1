# `import ./sub`: reads files relative to this directory, not the importer's.
{
  fromJson = builtins.fromJSON (builtins.readFile ./x.json);
  nested = import ./y.nix;
  up = (import ../data.nix).settings.fqdn;
}
