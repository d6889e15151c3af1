//! The VS Code extension in editors/vscode: it type-checks and bundles, its unit tests pass, it
//! packages into a .vsix whose manifest is right, and the language server answers a client built
//! on the protocol library VS Code's client uses (vscode-languageserver-protocol) with VS Code's
//! capabilities. The steps share one build, so they are one test.

mod npm;

use std::path::Path;

#[test]
fn vscode_extension_builds_passes_its_tests_packages_and_drives_the_server() {
    if !npm::available("the VS Code extension's build and tests") {
        return;
    }
    let project = npm::repo().join("editors/vscode");
    if !npm::install(&project) {
        return;
    }
    let binary = Path::new(env!("CARGO_BIN_EXE_infra-check"));
    npm::script(&project, "build", &[]);
    let unit = npm::script(&project, "test", &[]);
    npm::assert_passed(&unit, "unit tests");
    npm::script(&project, "package", &[]);
    let package = npm::script(&project, "test:package", &[]);
    npm::assert_passed(&package, "package manifest test");
    let server = npm::script(&project, "test:server", &[("INFRA_CHECK_BIN", binary)]);
    npm::assert_passed(&server, "language-server test");
}
