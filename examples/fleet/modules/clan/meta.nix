{ inputs, ... }:
{
  clan = {
    meta.name = "periodic";
    meta.description = "Four NixOS servers and four macOS workstations";
    meta.domain = "periodic.example.org";

    # Available as module arguments inside every machine configuration.
    specialArgs = { inherit inputs; };
  };
}
