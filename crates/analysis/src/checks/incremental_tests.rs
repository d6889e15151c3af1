//! The per-machine parts of the workspace checks are memoised per machine: an edit to one
//! machine's module computes that machine's part again and leaves the others' as they were
//! (the same value, not merely an equal one).

use std::sync::Arc;

use crate::options::configs::machine_configurations;
use crate::tests::{host_from_fixture, with_clan_flake};

use super::vars::machine_findings;

/// Two machines, each with its own module; `web`'s module is [`web`].
const CLAN: &str = r#"#- /modules/clan.nix
{ config, ... }:
{
  clan.inventory.machines.web = { };
  clan.inventory.machines.db = { };
  clan.machines.web.imports = [ config.flake.modules.nixos.web ];
  clan.machines.db.imports = [ config.flake.modules.nixos.db ];
}
#- /modules/db.nix
{
  flake.modules.nixos.db = {
    clan.core.vars.generators.backup = {
      files.key = { };
      script = "generate";
    };
    services.postgresql.enable = true;
  };
}
"#;

fn web(generator: &str) -> String {
    format!(
        r#"{{
  flake.modules.nixos.web = {{
    clan.core.vars.generators.{generator} = {{
      files.token.secret = false;
      script = "generate";
    }};
    services.nginx.enable = true;
  }};
}}
"#
    )
}

#[test]
fn an_edit_to_one_machine_s_module_leaves_the_other_machines_parts() {
    let mut host = host_from_fixture(&with_clan_flake(&format!(
        "{CLAN}#- /modules/web.nix\n{}",
        web("api")
    )));
    // The editor opens the file: its text, unchanged, becomes edited (less durable), so the
    // edit below can keep what it does not change (see `AnalysisHost::set_file_text`).
    host.set_file_text("modules/web.nix", Some(web("api").into()));
    let part = |host: &crate::AnalysisHost, machine: &str| {
        let a = host.snapshot();
        let diags = a.diagnostics().expect("not cancelled");
        let (db, ws) = (a.db_for_tests(), a.workspace_for_tests());
        let vars = machine_findings(db, ws, machine).clone();
        let configs = machine_configurations(db, ws, machine).clone();
        (diags, vars, configs)
    };
    let (before, web_vars, _) = part(&host, "web");
    let (_, db_vars, db_configs) = part(&host, "db");
    assert!(
        before.iter().any(|d| d.message.contains("generator `api`")),
        "{before:?}"
    );

    host.set_file_text("modules/web.nix", Some(web("session").into()));
    let (after, web_vars_after, _) = part(&host, "web");
    let (_, db_vars_after, db_configs_after) = part(&host, "db");
    assert!(
        after
            .iter()
            .any(|d| d.message.contains("generator `session`"))
            && !after.iter().any(|d| d.message.contains("generator `api`"))
            && after
                .iter()
                .any(|d| d.message.contains("generator `backup`")),
        "{after:?}"
    );
    assert!(
        !Arc::ptr_eq(&web_vars, &web_vars_after),
        "the edited machine's findings are computed again"
    );
    assert!(
        Arc::ptr_eq(&db_vars, &db_vars_after),
        "the other machine's vars findings are kept"
    );
    assert!(
        Arc::ptr_eq(&db_configs, &db_configs_after),
        "the other machine's configurations are kept"
    );
}
