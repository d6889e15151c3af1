//! Vars mistakes made in a copy of `examples/fleet`, reported at the right file and line and
//! cleared again once repaired: a machine's `machines/<m>/configuration.nix` (which clan-core
//! loads by itself) and a secret still encrypted for a machine it is not deployed to.

mod common;

use common::fleet::{assert_clean, backup, diagnostics, edit, findings, line_of, restore};
use common::fleet_copy;

const CONFIG: &str = "machines/argon/configuration.nix";

#[test]
fn a_machine_configuration_file_s_generators_and_reads_are_the_machine_s() {
    let dir = fleet_copy();
    let root = dir.path();
    let tmp = tempfile::tempdir().unwrap();
    assert_clean(root, "the repair");

    // The generator only `configuration.nix` declares was never generated.
    let gen_dir = "vars/per-machine/argon/node-id";
    let saved = backup(root, gen_dir, tmp.path());
    let (_, list) = findings(root);
    let line = line_of(root, CONFIG, "generators.node-id = {");
    assert_eq!(
        list,
        vec![("vars/missing".to_owned(), CONFIG.to_owned(), line)],
        "{list:?}"
    );
    let message = &diagnostics(root)[0].3;
    assert!(
        message.contains("Machine `argon` needs the generator `node-id` (declared in `machines/argon/configuration.nix`)"),
        "{message}"
    );
    restore(root, gen_dir, &saved);
    assert_clean(root, "the repair");

    // Without the file that declares it, its vars are left over (only a guess: argon imports
    // modules of other flakes).
    let saved = backup(root, CONFIG, tmp.path());
    let d = diagnostics(root);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0.as_str(), d[0].2.as_str()), ("vars/orphan", "info"));
    assert!(d[0].3.contains("(`node-id`)"), "{}", d[0].3);
    restore(root, CONFIG, &saved);
    assert_clean(root, "the repair");

    // A misspelt read of it: argon imports modules infra-check cannot read, so a near miss.
    let original = edit(
        root,
        CONFIG,
        "generators.node-id.files",
        "generators.node-ids.files",
    );
    let (_, list) = findings(root);
    let line = line_of(root, CONFIG, "generators.node-ids.files");
    assert_eq!(
        list,
        vec![("vars/near-miss".to_owned(), CONFIG.to_owned(), line)],
        "{list:?}"
    );
    let d = diagnostics(root);
    assert_eq!(d[0].2, "warning");
    assert!(d[0].3.contains("did you mean `node-id`?"), "{}", d[0].3);
    std::fs::write(root.join(CONFIG), original).unwrap();
    assert_clean(root, "the repair");
}

#[test]
fn a_secret_not_deployed_but_still_encrypted_for_a_machine_is_stale_access() {
    let dir = fleet_copy();
    let root = dir.path();
    assert_clean(root, "the repair");
    // `user-password` of clan-core's users service has `deploy = false`: only its hash goes
    // to the machines. A link left from an older clan-core still gives argon access.
    let link = root.join("vars/shared/user-password-ada/user-password/machines/argon");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("../../../../../sops/machines/argon", &link).unwrap();
    let file = "modules/clan/inventory/services/users/ada.nix";
    let (code, list) = findings(root);
    let line = line_of(root, file, "argon = { };");
    assert_eq!(
        list,
        vec![("vars/stale-access".to_owned(), file.to_owned(), line)],
        "{list:?}"
    );
    assert_eq!(code, 0, "a warning does not fail the check");
    let d = diagnostics(root);
    assert_eq!(d[0].2, "warning");
    assert!(
        d[0].3.contains("`user-password-ada/user-password`")
            && d[0].3.contains("machine `argon`")
            && d[0].3.contains("`clan vars fix argon`"),
        "{}",
        d[0].3
    );
    // Repaired as `clan vars fix argon` does: the link is removed.
    std::fs::remove_file(&link).unwrap();
    std::fs::remove_dir(link.parent().unwrap()).unwrap();
    assert_clean(root, "the repair");
}
