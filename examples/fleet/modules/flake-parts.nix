# Enables `flake.modules.<class>.<name>`: the deferred modules every other file contributes to.
{ inputs, ... }:
{
  imports = [ inputs.flake-parts.flakeModules.modules ];
}
