//! `infra-check lsp` without the CLI: the language server on stdio, for the end-to-end editor
//! test (`tests/neovim.rs`).

fn main() -> std::io::Result<()> {
    infra_check_lsp::run_stdio()
}
