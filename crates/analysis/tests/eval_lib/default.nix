# `import ./.` in a file at the root of a source reads this.
{ fromRoot = "the root default.nix"; }
