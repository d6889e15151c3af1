//! The host's inputs: what was read from disk and what is being edited are told apart (salsa
//! durability), and collecting garbage between edits changes no answer.

use crate::tests::host_from_fixture;

fn codes(host: &crate::AnalysisHost) -> Vec<String> {
    host.snapshot()
        .diagnostics()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d.code, d.location.file))
        .collect()
}

#[test]
fn edits_and_garbage_collection_between_them_keep_every_answer_current() {
    let mut host = host_from_fixture(
        "#- /flake.nix\n{ outputs = _: { }; }\n#- /modules/a.nix\n{ }\n#- /modules/b.nix\n{ }\n",
    );
    assert_eq!(codes(&host), Vec::<String>::new());
    // An edited document (low durability) breaks; a file read from disk does not change.
    host.set_file_text("modules/a.nix", Some("{ x = ; }".into()));
    let broken = codes(&host);
    assert!(
        broken.iter().any(|c| c.ends_with(" modules/a.nix")),
        "{broken:?}"
    );
    host.collect_garbage();
    assert_eq!(codes(&host), broken);
    // A disk file changing after an edit is seen too (its durability is high).
    host.set_files(vec![("modules/b.nix".to_owned(), "{ y = ; }".into())]);
    let both = codes(&host);
    assert!(
        both.iter().any(|c| c.ends_with(" modules/b.nix")),
        "{both:?}"
    );
    host.collect_garbage();
    host.set_file_text("modules/a.nix", Some("{ }".into()));
    host.collect_garbage();
    let fixed = codes(&host);
    assert!(
        !fixed.iter().any(|c| c.ends_with(" modules/a.nix")),
        "{fixed:?}"
    );
    assert!(
        fixed.iter().any(|c| c.ends_with(" modules/b.nix")),
        "{fixed:?}"
    );
}

/// A fixture whose `flake.nix` is a flake-parts flake importing `./modules` with import-tree,
/// followed by `$files`.
macro_rules! dendritic {
    ($files:literal) => {
        concat!(
            r#"#- /flake.nix
{
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
"#,
            $files
        )
    };
}

/// The queries salsa runs, as their keys print (`parse(Id(3))`), in order.
type Executed = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A host loaded with `fixture` whose database records every query it runs.
fn recording_host(fixture: &str) -> (Executed, crate::AnalysisHost) {
    logging_host(fixture, |kind| match kind {
        salsa::EventKind::WillExecute { database_key } => Some(format!("{database_key:?}")),
        _ => None,
    })
}

/// A host loaded with `fixture` whose database records the events `pick` names.
fn logging_host(
    fixture: &str,
    pick: fn(&salsa::EventKind) -> Option<String>,
) -> (Executed, crate::AnalysisHost) {
    let executed = Executed::default();
    let seen = std::sync::Arc::clone(&executed);
    let db = crate::db::RootDatabase::with_events(move |e| {
        if let Some(name) = pick(&e.kind) {
            seen.lock().unwrap().push(name);
        }
    });
    let host = crate::tests::fixture_into(
        crate::AnalysisHost::with_database("/fixture".into(), db),
        fixture,
    );
    (executed, host)
}

/// The cold start's per-file work keeps no syntax tree (see `crate::file_pass`): only what reads
/// a file's tree itself — the flake's outputs, a file that `import` evaluates — runs `parse`.
#[test]
fn the_per_file_pass_parses_each_file_once_without_keeping_the_tree() {
    let (executed, host) = recording_host(
        "#- /flake.nix\n{ outputs = _: { }; }\n#- /modules/a.nix\n{ x = import ./lib.nix; }\n#- /modules/b.nix\n{ y = 1; }\n#- /modules/lib.nix\n{ z = 2; }\n",
    );
    let analysis = host.snapshot();
    analysis.prime().unwrap();
    let (db, ws) = (analysis.db_for_tests(), analysis.workspace_for_tests());
    let parse = |path: &str| {
        let file = crate::db::file_by_path(db, ws, path).unwrap();
        format!("parse({:?})", salsa::plumbing::AsId::as_id(&file))
    };
    let executed = executed.lock().unwrap().clone();
    let count = |q: &String| executed.iter().filter(|e| *e == q).count();
    let passes = executed
        .iter()
        .filter(|e| e.starts_with("file_pass("))
        .count();
    assert_eq!(passes, 4, "one pass per file: {executed:#?}");
    // Read as trees: the flake's outputs, and the file `import` evaluates.
    for path in ["flake.nix", "modules/lib.nix"] {
        assert_eq!(count(&parse(path)), 1, "{path}: {executed:#?}");
    }
    for path in ["modules/a.nix", "modules/b.nix"] {
        assert_eq!(count(&parse(path)), 0, "{path}: {executed:#?}");
    }
    // The results are the pass's, and the same as asked for one by one.
    assert!(analysis.diagnostics().unwrap().is_empty());
}

/// The queries run (or, as the log records them, checked) since the last call: for `host`'s
/// last change and the diagnostics after it, by name.
fn executed_after(
    host: &crate::AnalysisHost,
    log: &Executed,
) -> std::collections::BTreeSet<String> {
    let analysis = host.snapshot();
    analysis.prime_workspace().unwrap();
    analysis.diagnostics().unwrap();
    let mut names = log.lock().unwrap();
    names
        .drain(..)
        .map(|e| e.split('(').next().unwrap_or(&e).to_owned())
        .collect()
}

/// The workspace models that read one kind of part of every summary (the clan model, the
/// vars declarations, the options' view of the modules and the options checks) are built
/// again only when that kind of part changed, not whenever some summary did.
#[test]
fn a_model_is_built_again_only_when_the_parts_it_reads_change() {
    let (log, mut host) = recording_host(dendritic!(
        r#"#- /modules/inventory.nix
{ clan.inventory.machines.web = { }; }
#- /modules/web.nix
{ config, ... }: {
  flake.modules.nixos.web = { networking.hostName = "web"; clan.core.vars.generators.key.files.k = { }; };
  clan.machines.web.imports = [ config.flake.modules.nixos.web ];
}
"#
    ));
    // Opened in an editor first (the same text), as the language server does: salsa keeps no
    // result equal whose inputs became less durable.
    let text = host.snapshot().file_text("modules/web.nix");
    host.set_file_text("modules/web.nix", text);
    executed_after(&host, &log);
    // A new module: the module index changes, and nothing the clan, vars or options models
    // read from the file does.
    host.set_file_text(
        "modules/web.nix",
        Some(
            r#"{ config, ... }: {
  flake.modules.nixos.web = { networking.hostName = "web"; clan.core.vars.generators.key.files.k = { }; };
  clan.machines.web.imports = [ config.flake.modules.nixos.web ];
  flake.modules.nixos.extra = { };
}
"#
            .into(),
        ),
    );
    let ran = executed_after(&host, &log);
    assert!(ran.contains("module_index"), "{ran:?}");
    for m in ["clan_model", "declarations", "context"] {
        assert!(!ran.contains(m), "{m} was built again: {ran:?}");
    }
    // The machine's clan part, vars part and options part each change in turn.
    let base = "{ config, ... }: {\n  flake.modules.nixos.extra = { };\n  clan.machines.web.imports = [ config.flake.modules.nixos.web ];\n";
    for (body, model) in [
        ("  clan.inventory.machines.db = { };\n  flake.modules.nixos.web = { networking.hostName = \"web\"; clan.core.vars.generators.key.files.k = { }; };\n", "clan_model"),
        ("  flake.modules.nixos.web = { networking.hostName = \"web\"; clan.core.vars.generators.other.files.k = { }; };\n", "declarations"),
        ("  flake.modules.nixos.web = { networking.hostName = \"www\"; clan.core.vars.generators.other.files.k = { }; };\n", "context"),
    ] {
        host.set_file_text("modules/web.nix", Some(format!("{base}{body}}}\n").into()));
        let ran = executed_after(&host, &log);
        assert!(ran.contains(model), "{model} was not built again: {ran:?}");
    }
}

/// An edit that changes neither a file's summary nor its own findings leaves the workspace's
/// diagnostics as they were, even when the file holds a cross-file finding (which the ignore
/// comments are matched against): they are not gathered again.
#[test]
fn an_edit_that_keeps_the_summary_of_a_file_with_a_finding_gathers_nothing_again() {
    let (log, mut host) = recording_host(dendritic!(
        r#"#- /modules/a.nix
{
  # infra-check: ignore[module/unused]
  flake.modules.nixos.quiet = { };
  flake.modules.nixos.unused = { };
}
"#
    ));
    let text = host.snapshot().file_text("modules/a.nix").unwrap();
    host.set_file_text("modules/a.nix", Some(text.clone()));
    executed_after(&host, &log);
    let before = host.snapshot().diagnostics().unwrap();
    assert!(
        before.iter().any(|d| d.code == "module/unused"),
        "{before:?}"
    );
    host.set_file_text("modules/a.nix", Some(format!("{text}# a comment\n").into()));
    let ran = executed_after(&host, &log);
    assert!(ran.contains("file_pass"), "{ran:?}");
    assert!(!ran.contains("workspace_diagnostics"), "{ran:?}");
    assert_eq!(host.snapshot().diagnostics().unwrap(), before);
}

/// An edit that keeps an edited document's summary leaves every result that reads summaries
/// valid without salsa walking through them (the settled summary, see `crate::db::SETTLED`):
/// no other file's summary, no index, model or per-machine result below the diagnostics is
/// run or even checked again.
#[test]
fn an_edit_that_keeps_the_summary_visits_nothing_that_reads_summaries() {
    let (log, mut host) = logging_host(
        dendritic!(
            r#"#- /modules/inventory.nix
{ clan.inventory.machines.web = { }; }
#- /modules/shared.nix
{ flake.modules.nixos.shared = { services.openssh.enable = true; }; }
#- /modules/web.nix
{ config, ... }: {
  flake.modules.nixos.web = { networking.hostName = "web"; clan.core.vars.generators.key.files.k = { }; };
  clan.machines.web.imports = [ config.flake.modules.nixos.web config.flake.modules.nixos.shared ];
}
"#
        ),
        |kind| match kind {
            salsa::EventKind::WillExecute { database_key }
            | salsa::EventKind::DidValidateMemoizedValue { database_key } => {
                Some(format!("{database_key:?}"))
            }
            _ => None,
        },
    );
    // Read below the results the diagnostics read directly (which salsa checks in one step
    // each): met only when salsa walks down through those.
    let below = [
        "module_index",
        "module_file_summaries",
        "clan_parts",
        "held_roles",
        "vars_model",
        "declarations",
        "machine_modules_of",
        "machine_vars_of",
        "context",
    ];
    let text = host.snapshot().file_text("modules/web.nix").unwrap();
    host.set_file_text("modules/web.nix", Some(text.clone()));
    let first = executed_after(&host, &log);
    for q in below {
        assert!(first.contains(q), "{q} never ran: {first:?}");
    }
    // A summary that changes is read again; then one that does not change visits none of them.
    let changed = text.replace("\"web\"; clan", "\"www\"; clan");
    host.set_file_text("modules/web.nix", Some(changed.clone().into()));
    let ran = executed_after(&host, &log);
    assert!(ran.contains("configurations_of"), "{ran:?}");
    host.set_file_text(
        "modules/web.nix",
        Some(format!("{changed}# a comment\n").into()),
    );
    let analysis = host.snapshot();
    analysis.prime_workspace().unwrap();
    analysis.diagnostics().unwrap();
    let events: Vec<String> = log.lock().unwrap().drain(..).collect();
    let count = |name: &str| events.iter().filter(|e| e.starts_with(name)).count();
    assert_eq!(count("file_pass("), 1, "{events:#?}");
    assert_eq!(
        count("computed_summary("),
        1,
        "only the edited file's: {events:#?}"
    );
    let ran: std::collections::BTreeSet<&str> = events
        .iter()
        .map(|e| e.split('(').next().unwrap())
        .collect();
    for q in below {
        assert!(!ran.contains(q), "{q} was visited: {ran:?}");
    }
}

/// An edited document's settled summary follows the other files it reads: here a module set
/// it imports changes on disk, and the finding moves with it; the file's own edits and its
/// removal are seen as well.
#[test]
fn a_settled_summary_follows_the_files_it_reads_and_the_files_removal() {
    let mut host = host_from_fixture(dendritic!(
        r#"#- /modules/a.nix
{ flake.modules.nixos = import ../lib/mods.nix; }
#- /lib/mods.nix
{ foo = { }; }
"#
    ));
    let unused = |host: &crate::AnalysisHost| -> Vec<String> {
        host.snapshot()
            .diagnostics()
            .unwrap()
            .iter()
            .filter(|d| d.code == "module/unused")
            .map(|d| d.message.clone())
            .collect()
    };
    let text = host.snapshot().file_text("modules/a.nix");
    host.set_file_text("modules/a.nix", text);
    let before = unused(&host);
    assert!(
        before.len() == 1 && before[0].contains("nixos.foo"),
        "{before:?}"
    );
    host.set_files(vec![("lib/mods.nix".to_owned(), "{ bar = { }; }".into())]);
    let after = unused(&host);
    assert!(
        after.len() == 1 && after[0].contains("nixos.bar"),
        "{after:?}"
    );
    host.set_file_text(
        "modules/a.nix",
        Some("{ flake.modules.nixos = import ../lib/mods.nix // { baz = { }; }; }".into()),
    );
    assert_eq!(unused(&host).len(), 2, "{:?}", unused(&host));
    host.set_file_text("modules/a.nix", None);
    assert_eq!(unused(&host), Vec::<String>::new());
    host.set_file_text(
        "modules/a.nix",
        Some("{ flake.modules.nixos = import ../lib/mods.nix; }".into()),
    );
    assert_eq!(unused(&host), after);
}

/// The gathers over every file (file-local findings, named paths, unknown ignore codes) read
/// the files in groups (`crate::chunks`): after a keystroke, salsa visits the edited file's
/// group file by file and each other group in one step, not every file of the workspace.
#[test]
fn a_keystroke_visits_the_per_file_results_of_its_own_group_only() {
    let mut fixture = String::from(dendritic!(""));
    for i in 0..300 {
        fixture.push_str(&format!(
            "#- /modules/m{i:03}.nix\n{{ perSystem.m{i:03} = {{ }}; }}\n"
        ));
    }
    let (log, mut host) = logging_host(&fixture, |kind| match kind {
        salsa::EventKind::WillExecute { database_key }
        | salsa::EventKind::DidValidateMemoizedValue { database_key } => {
            Some(format!("{database_key:?}"))
        }
        _ => None,
    });
    let path = "modules/m150.nix";
    let text = host.snapshot().file_text(path).unwrap();
    host.set_file_text(path, Some(text.clone()));
    let first = executed_after(&host, &log);
    assert!(first.contains("chunk_local_diagnostics"), "{first:?}");
    host.set_file_text(path, Some(format!("{text}# a comment\n").into()));
    host.snapshot().diagnostics().unwrap();
    let events: Vec<String> = log.lock().unwrap().drain(..).collect();
    let count = |name: &str| events.iter().filter(|e| e.starts_with(name)).count();
    for per_file in ["file_local_diagnostics(", "named_paths(", "suppressions("] {
        let n = count(per_file);
        assert!((1..=64).contains(&n), "{per_file} visited {n} times");
    }
    // 301 `.nix` files: five groups, each visited once per gather.
    for group in [
        "chunk_local_diagnostics(",
        "chunk_named_paths(",
        "unknown_codes(",
    ] {
        assert_eq!(count(group), 5, "{group}: {events:#?}");
    }
}

/// What import-tree loads is memoised apart from the summaries (`flake::root_import_tree_files`):
/// a module file that appears on disk later is still loaded, checked and indexed.
#[test]
fn a_module_file_that_appears_under_an_import_tree_is_loaded() {
    let first = dendritic!(
        "#- /modules/a.nix\n{ config, ... }: { flake.modules.nixos.a.imports = [ config.flake.modules.nixos.c ]; }\n"
    );
    let host = host_from_fixture(first);
    let before = codes(&host);
    assert!(
        before.iter().any(|c| c == "module/undefined modules/a.nix"),
        "{before:?}"
    );
    // A rescan finds two more files below `./modules`.
    let host = crate::tests::fixture_into(
        host,
        &format!(
            "{first}#- /modules/c.nix\n{{ flake.modules.nixos.c = {{ }}; }}\n\
             #- /modules/hosts.nix\n{{ boot.loader.grub.enable = true; }}\n"
        ),
    );
    let after = codes(&host);
    assert!(
        !after.iter().any(|c| c.starts_with("module/undefined")),
        "{after:?}"
    );
    assert!(
        after
            .iter()
            .any(|c| c == "module/not-a-flake-module modules/hosts.nix"),
        "{after:?}"
    );
}
