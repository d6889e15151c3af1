//! The generated fleet is clean, so benchmarks on it measure analysis, not error reporting.

#[test]
fn a_generated_fleet_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    fleetgen::write_fleet(
        dir.path(),
        fleetgen::Spec {
            machines: 30,
            shared: 6,
        },
    )
    .unwrap();
    let loaded = infra_check_analysis::load(dir.path()).unwrap();
    let a = loaded.host.snapshot();
    let diags = a.diagnostics().unwrap();
    assert!(diags.is_empty(), "{diags:#?}");
    // The fleet is what it says: 30 machines, half of them darwin, sshd on the NixOS ones.
    let o = a.overview().unwrap();
    assert_eq!(o.machines.len(), 30);
    assert_eq!(
        o.machines
            .iter()
            .filter(|m| m.class.as_deref() == Some("darwin"))
            .count(),
        15
    );
    assert!(o
        .machines
        .iter()
        .filter(|m| m.class.as_deref() == Some("nixos"))
        .all(|m| m.roles.iter().any(|r| r.instance == "sshd")));
}
