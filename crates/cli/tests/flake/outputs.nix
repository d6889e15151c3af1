# What the repository's flake.nix and nix/flake-module.nix produce, as plain data, evaluated
# without nixpkgs or flake-parts (neither can be fetched offline): they get stand-ins that
# record what they are called with, the way `callPackage`, `mkShell` and `runCommand` are
# called in nixpkgs. `nix-instantiate --eval --strict --json --readonly-mode
# outputs.nix --argstr repo /abs/repo` prints it.
{ repo }:
let
  root = /. + repo;

  # A derivation-like set: it interpolates to a store path, as a real one does.
  drv =
    name: attrs:
    attrs
    // {
      type = "derivation";
      inherit name;
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
    };

  lib = {
    genAttrs =
      names: f:
      builtins.listToAttrs (
        map (n: {
          name = n;
          value = f n;
        }) names
      );
    importTOML = file: builtins.fromTOML (builtins.readFile file);
    fileset = {
      toSource = { root, fileset }: root;
      unions = builtins.foldl' (acc: f: acc ++ [ f ]) [ ];
    };
    licenses = {
      mit = "mit";
      asl20 = "asl20";
    };
  };

  # The nixpkgs attributes the flake may name; an attribute not listed is an evaluation error,
  # so a misspelt package fails the test.
  tools = [
    "cargo"
    "rustc"
    "clippy"
    "rustfmt"
    "rust-analyzer"
    "nix"
    "neovim"
    "emacs-nox"
    "graphviz"
    "direnv"
    "just"
    "nodejs"
  ];

  pkgsFor =
    system:
    let
      pkgs = lib.genAttrs tools (name: drv name { }) // {
        inherit lib system;
        callPackage =
          fn: args:
          let
            f = if builtins.isFunction fn then fn else import fn;
          in
          f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // args);
        rustPlatform.buildRustPackage = attrs: drv "${attrs.pname}-${attrs.version}" attrs;
        mkShell = attrs: drv "nix-shell" attrs;
        runCommand = name: env: script: drv name (env // { inherit script; });
      };
    in
    pkgs;

  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [
      "x86_64-linux"
      "aarch64-linux"
      "x86_64-darwin"
      "aarch64-darwin"
      "riscv64-linux"
    ] pkgsFor;
  };

  flake = import (root + "/flake.nix");
  self = outputs // {
    outPath = repo;
  };
  outputs = flake.outputs { inherit self nixpkgs; };

  package = p: {
    inherit (p) name pname version cargoBuildFlags doCheck;
    # Not `outPath`: a set with one is written to JSON as that path alone.
    out = p.outPath;
    mainProgram = p.meta.mainProgram;
    # The source is the repository itself, not a copy of part of it elsewhere.
    srcIsRepo = p.src == root;
    cargoLockIsRepos = p.cargoLock.lockFile == root + "/Cargo.lock";
  };
  check = c: {
    inherit (c) name;
    script = c.script or null;
  };

  # nix/flake-module.nix as flake-parts calls it: the module with `self`, its `perSystem` with
  # `pkgs` (other arguments are absorbed by `...`).
  module = import outputs.flakeModules.default {
    self = {
      outPath = "/nix/store/11111111111111111111111111111111-source";
    };
    lib = lib;
  };
  perSystem = module.perSystem { pkgs = pkgsFor "x86_64-linux"; };
in
{
  description = flake.description;
  inputs = builtins.mapAttrs (_: i: i.url) flake.inputs;
  outputs = builtins.attrNames outputs;
  packages = builtins.mapAttrs (_: builtins.mapAttrs (_: package)) outputs.packages;
  apps = builtins.mapAttrs (_: builtins.mapAttrs (_: a: { inherit (a) type program; })) outputs.apps;
  devShells = builtins.mapAttrs (
    _: builtins.mapAttrs (_: s: map (p: p.name) s.packages)
  ) outputs.devShells;
  checks = builtins.mapAttrs (_: builtins.mapAttrs (_: check)) outputs.checks;
  flakeModule = {
    type = builtins.typeOf outputs.flakeModules.default;
    isRepoFile = outputs.flakeModules.default == root + "/nix/flake-module.nix";
    topLevel = builtins.attrNames module;
    packages = builtins.mapAttrs (_: package) perSystem.packages;
    checks = builtins.mapAttrs (_: check) perSystem.checks;
  };
}
