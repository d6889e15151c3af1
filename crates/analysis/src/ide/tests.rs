use crate::tests::host_from_fixture;
use crate::Analysis;

const REPO: &str = r#"#- /flake.nix
{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
#- /modules/base.nix
{
  flake.modules.nixos.base = { config, lib, ... }: {
    imports = [ ./hardware.nix ];
    options.fleet.port = lib.mkOption { type = lib.types.port; default = 8080; description = "The port."; };
    config.clan.core.vars.generators.api = { files.token = { }; };
  };
}
#- /modules/hardware.nix
{ }
#- /modules/web.nix
{ config, ... }:
let nixosModules = config.flake.modules.nixos; in
{
  flake.modules.nixos."machines/nixos/web" = { config, ... }: {
    imports = with nixosModules; [ base ];
    fleet.port = 443;
    services.api.tokenFile = config.clan.core.vars.generators.api.files.token.path;
  };
  clan.inventory.machines.web = { tags = [ "server" ]; };
  clan.machines.web.imports = [ config.flake.modules.nixos."machines/nixos/web" ];
  clan.inventory.instances.sshd.roles.server.machines.web = { };
  clan.inventory.instances.sshd.roles.client.tags = [ "server" ];
}
"#;

fn analysis() -> Analysis {
    host_from_fixture(REPO).snapshot()
}

/// The offset of the `n`th occurrence (0-based) of `needle` in `file`, plus `delta`.
fn offset(a: &Analysis, file: &str, needle: &str, n: usize, delta: u32) -> u32 {
    let text = a.file_text(file).unwrap();
    let mut from = 0;
    for _ in 0..n {
        from += text[from..].find(needle).unwrap() + needle.len();
    }
    (from + text[from..].find(needle).unwrap()) as u32 + delta
}

fn files(targets: &[crate::ide::NavTarget]) -> Vec<String> {
    targets
        .iter()
        .map(|t| t.location.file.to_string())
        .collect()
}

#[test]
fn definition_of_modules_machines_paths_generators_and_options() {
    let a = analysis();
    // `base` in the `with` list → where `flake.modules.nixos.base` is defined.
    let at = offset(&a, "modules/web.nix", "base ]", 0, 1);
    assert_eq!(
        files(&a.definition("modules/web.nix", at).unwrap()),
        ["modules/base.nix"]
    );
    // A machine named in a role → its inventory entry and its machine module.
    let at = offset(&a, "modules/web.nix", "machines.web = { }", 0, 10);
    let t = a.definition("modules/web.nix", at).unwrap();
    assert!(t.iter().any(|t| t.label == "machine web"), "{t:?}");
    assert!(
        t.iter()
            .any(|t| t.label == "flake.modules.nixos.\"machines/nixos/web\""),
        "{t:?}"
    );
    // `./hardware.nix` → the file.
    let at = offset(&a, "modules/base.nix", "./hardware.nix", 0, 3);
    assert_eq!(
        files(&a.definition("modules/base.nix", at).unwrap()),
        ["modules/hardware.nix"]
    );
    // A generator file read → the declaration.
    let at = offset(&a, "modules/web.nix", "token.path", 0, 1);
    assert_eq!(
        files(&a.definition("modules/web.nix", at).unwrap()),
        ["modules/base.nix"]
    );
    // An option definition → its declaration.
    let at = offset(&a, "modules/web.nix", "port = 443", 0, 1);
    assert_eq!(
        files(&a.definition("modules/web.nix", at).unwrap()),
        ["modules/base.nix"]
    );
    // A tag → the machines carrying it.
    let at = offset(&a, "modules/web.nix", "\"server\" ];\n}", 0, 2);
    let t = a.definition("modules/web.nix", at).unwrap();
    assert_eq!(
        t.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
        ["machine web"]
    );
}

#[test]
fn references_hover_completion_and_symbols() {
    let a = analysis();
    let at = offset(&a, "modules/base.nix", "base =", 0, 1);
    let refs = a.references("modules/base.nix", at, false).unwrap();
    assert_eq!(files(&refs), ["modules/web.nix"]);
    // Hover on a machine in a role: its class and roles.
    let at = offset(&a, "modules/web.nix", "machines.web = { }", 0, 10);
    let h = a.hover("modules/web.nix", at).unwrap().unwrap();
    assert!(h.markdown.contains("class: `nixos`"), "{}", h.markdown);
    assert!(h.markdown.contains("`sshd/server`"), "{}", h.markdown);
    // Hover on an option definition.
    let at = offset(&a, "modules/web.nix", "port = 443", 0, 1);
    let h = a.hover("modules/web.nix", at).unwrap().unwrap();
    assert!(
        h.markdown.contains("16 bit unsigned integer") && h.markdown.contains("The port."),
        "{}",
        h.markdown
    );
    // Completion of module names after `config.flake.modules.nixos.`.
    let text = a.file_text("modules/web.nix").unwrap();
    let end = text.find("config.flake.modules.nixos.\"machines").unwrap()
        + "config.flake.modules.nixos.".len();
    let c = a.completions("modules/web.nix", end as u32).unwrap();
    assert!(c.iter().any(|c| c.label == "base"), "{c:?}");
    // Symbols.
    let s = a.document_symbols("modules/base.nix").unwrap();
    assert!(
        s.iter().any(|s| s.name == "flake.modules.nixos.base"),
        "{s:?}"
    );
    assert!(s.iter().any(|s| s.name == "generator api"), "{s:?}");
    let w = a.workspace_symbols("web").unwrap();
    assert!(w.iter().any(|s| s.name == "machine web"), "{w:?}");
    // Nothing at a position with nothing on it.
    assert!(a.definition("modules/hardware.nix", 0).unwrap().is_empty());
    assert!(a.hover("modules/hardware.nix", 0).unwrap().is_none());
}

#[test]
fn generator_names_in_reads_and_with_lists_on_one_line() {
    let a = analysis();
    // The generator part of `generators.api.files.token.path`.
    let at = offset(&a, "modules/web.nix", "api.files", 0, 1);
    assert_eq!(
        files(&a.definition("modules/web.nix", at).unwrap()),
        ["modules/base.nix"]
    );
    let at = offset(&a, "modules/base.nix", "api = {", 0, 1);
    let refs = a.references("modules/base.nix", at, false).unwrap();
    assert!(
        refs.iter().any(|r| &*r.location.file == "modules/web.nix"),
        "{refs:?}"
    );
    // Completion inside `with nixosModules; [ … ]` on the same line as the `with`.
    let text = a.file_text("modules/web.nix").unwrap();
    let end = text.find("[ base ]").unwrap() + "[ ba".len();
    let c = a.completions("modules/web.nix", end as u32).unwrap();
    assert!(c.iter().any(|c| c.label == "base"), "{c:?}");
}

#[test]
fn role_names_complete_for_the_instance_being_written() {
    let a = analysis();
    let text = a.file_text("modules/web.nix").unwrap();
    let end = text.find("instances.sshd.roles.").unwrap() + "instances.sshd.roles.".len();
    let c = a.completions("modules/web.nix", end as u32).unwrap();
    let labels: Vec<&str> = c.iter().map(|c| c.label.as_str()).collect();
    assert!(
        labels.contains(&"server") && labels.contains(&"client"),
        "{labels:?}"
    );
}

#[test]
fn a_with_list_or_inherit_only_offers_identifiers_and_a_select_quotes() {
    let a = analysis();
    let text = a.file_text("modules/web.nix").unwrap();
    // Inside `with nixosModules; [ … ]`: `machines/nixos/web` cannot be written there.
    let end = text.find("[ base ]").unwrap() + "[ ".len();
    let c = a.completions("modules/web.nix", end as u32).unwrap();
    let labels: Vec<&str> = c.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["base"]);
    // After `nixosModules.` it is offered, quoted.
    let a = host_from_fixture(&format!(
        "{REPO}#- /modules/more.nix\n{{ config, ... }}:\nlet nixosModules = config.flake.modules.nixos; in\n{{ flake.modules.nixos.m.imports = [ nixosModules.ma\n  (builtins.attrValues {{ inherit (nixosModules) b\n}}\n"
    ))
    .snapshot();
    let text = a.file_text("modules/more.nix").unwrap();
    let end = text.find("nixosModules.ma").unwrap() + "nixosModules.ma".len();
    let c = a.completions("modules/more.nix", end as u32).unwrap();
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].insert, "\"machines/nixos/web\"");
    // Inside `inherit (nixosModules) …`: identifiers only.
    let end = text.find("nixosModules) b").unwrap() + "nixosModules) ".len();
    let c = a.completions("modules/more.nix", end as u32).unwrap();
    let labels: Vec<&str> = c.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["base", "m"]);
}

#[test]
fn document_symbols_as_a_tree() {
    use crate::ide::symbols::SymbolTree;
    use crate::ide::SymbolKind;
    let a = analysis();
    let tree = a.document_symbol_tree("modules/web.nix").unwrap();
    let find = |nodes: &[SymbolTree], name: &str| -> Option<SymbolTree> {
        nodes.iter().find(|n| n.name == name).cloned()
    };
    let nixos = find(&tree, "nixos").expect("a nixos node");
    assert_eq!(nixos.kind, SymbolKind::Class);
    assert_eq!(
        nixos
            .children
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["\"machines/nixos/web\""]
    );
    let sshd = find(&tree, "sshd").expect("the sshd instance");
    assert_eq!(sshd.kind, SymbolKind::Instance);
    let server = find(&sshd.children, "server").expect("its server role");
    assert_eq!(server.kind, SymbolKind::Role);
    assert_eq!(
        server
            .children
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["web"]
    );
    // Every child lies inside its parent; every selection inside its range.
    fn nested(n: &SymbolTree) {
        assert!(
            n.range.start <= n.selection.start && n.selection.end <= n.range.end,
            "{n:?}"
        );
        for c in &n.children {
            assert!(
                n.range.start <= c.range.start && c.range.end <= n.range.end,
                "{n:?}"
            );
            nested(c);
        }
    }
    tree.iter().for_each(nested);
    assert!(
        find(&tree, "web").is_some_and(|m| m.kind == SymbolKind::Machine),
        "{tree:#?}"
    );
    // Generators with their files.
    let base = a.document_symbol_tree("modules/base.nix").unwrap();
    let api = find(&base, "api").expect("the api generator");
    assert_eq!(
        api.children
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect::<Vec<_>>(),
        [("token", SymbolKind::File)]
    );
    assert!(find(&base, "nixos").is_some_and(|n| n.children.iter().any(|c| c.name == "base")));
}
