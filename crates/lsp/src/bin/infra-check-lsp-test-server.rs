//! `infra-check lsp` without the CLI: the language server on stdio, for the end-to-end editor
//! tests (`tests/neovim.rs`, `tests/emacs.rs`), which put it on PATH as `infra-check`.

fn main() -> std::io::Result<()> {
    infra_check_lsp::run_stdio()
}
