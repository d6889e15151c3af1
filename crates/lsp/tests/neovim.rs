//! End to end with the real Neovim, set up the way `editors/README.md` tells users: the shipped
//! `editors/neovim/infra-check.lua` in the config's `plugin/` directory (or `luafile`), and an
//! `infra-check` on PATH. A Lua script plays the user on a copy of `examples/fleet` with a
//! typo: it presses the set-up's keys, answers its prompts through `vim.ui` (the hook every
//! Neovim UI replaces) and writes what it saw as JSON, which the test checks.

mod common;

use std::path::Path;
use std::process::Command;

use common::editor;
use serde_json::Value;

/// The user's session on the fleet. Steps that the server does not support are recorded as
/// skipped (with the reason) rather than failing. Works with Neovim 0.7 (no `vim.lsp.start`,
/// diagnostic codes under `user_data.lsp`) and later.
const SESSION: &str = r#"
local out = os.getenv("INFRA_CHECK_OUT")
local root = os.getenv("INFRA_CHECK_ROOT")
local result = { skipped = {} }
local function finish()
  vim.fn.writefile({ vim.fn.json_encode(result) }, out)
  vim.cmd("qall!")
end
local leader = vim.g.mapleader or "\\"
local function press(keys) vim.cmd("normal " .. keys) end
local function clients(buf)
  local ids = {}
  for id, client in pairs(vim.lsp.buf_get_clients(buf)) do
    if client.name == "infra-check" then table.insert(ids, id) end
  end
  return ids
end
local function codes(buf)
  local seen = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code
    if code == nil and d.user_data and d.user_data.lsp then code = d.user_data.lsp.code end
    table.insert(seen, { code = code, lnum = d.lnum, col = d.col, message = d.message })
  end
  return seen
end
local function cursor_on(buf, needle, delta)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local col = string.find(line, needle, 1, true)
    if col then
      vim.api.nvim_win_set_cursor(0, { i, col - 1 + (delta or 0) })
      return
    end
  end
  error(needle .. " is not in " .. vim.api.nvim_buf_get_name(buf))
end
local function has(buf, text)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n"):find(text, 1, true) ~= nil
end
local function local_map(lhs)
  local map = vim.fn.maparg(lhs, "n", false, true)
  return map.buffer == 1 and map.desc or nil
end
local function floating_text()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
      vim.api.nvim_win_close(win, true)
      return table.concat(lines, "\n")
    end
  end
end

local ok, err = pcall(function()
  local machine = root .. "/modules/machines/nixos/krypton/default.nix"
  vim.cmd("edit " .. vim.fn.fnameescape(machine))
  local buf = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo.filetype
  result.attached = vim.wait(20000, function() return #clients(buf) > 0 end, 20)
  local first = clients(buf)[1]
  local client = vim.lsp.get_client_by_id(first)
  result.published = vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
  result.diagnostics = codes(buf)
  result.omnifunc = vim.bo.omnifunc
  result.keys = {}
  for _, lhs in ipairs({ "K", "gd", "gr", leader .. "rn", leader .. "ca" }) do
    result.keys[lhs] = local_map(lhs) or false
  end
  result.rename_provider = client.server_capabilities.renameProvider and true or false

  -- <leader>ca on the typo: pick the fix from the menu.
  cursor_on(buf, "monitorng")
  local offered
  vim.ui.select = function(items, opts, on_choice)
    offered = {}
    local pick
    for i, item in ipairs(items) do
      local title = item[2].title
      table.insert(offered, title)
      if not pick and title:find("monitoring", 1, true) then pick = i end
    end
    on_choice(items[pick], pick)
  end
  press(leader .. "ca")
  result.code_action_fixed = vim.wait(20000, function()
    return has(buf, "      monitoring\n") and not has(buf, "monitorng")
  end, 20)
  result.code_actions = offered
  result.cleared = vim.wait(30000, function()
    for _, d in ipairs(codes(buf)) do
      if d.code == "module/undefined" then return false end
    end
    return true
  end, 20)

  -- gd on the deferred module lands in the file that defines it.
  cursor_on(buf, "      monitoring", 8)
  press("gd")
  vim.wait(20000, function() return vim.api.nvim_get_current_buf() ~= buf end, 20)
  result.definition = vim.api.nvim_buf_get_name(0)
  result.definition_line = vim.api.nvim_win_get_cursor(0)[1]
  vim.cmd("buffer " .. buf)

  -- gr lists the importing machines and the definition in the quickfix list.
  vim.fn.setqflist({})
  cursor_on(buf, "      monitoring", 8)
  press("gr")
  vim.wait(20000, function() return #vim.fn.getqflist() > 0 end, 20)
  result.references = {}
  for _, item in ipairs(vim.fn.getqflist()) do
    table.insert(result.references, vim.api.nvim_buf_get_name(item.bufnr))
  end
  vim.cmd("cclose")
  vim.cmd("buffer " .. buf)

  -- K shows the hover in a floating window.
  cursor_on(buf, "      monitoring", 8)
  press("K")
  local hover
  vim.wait(20000, function() hover = floating_text(); return hover ~= nil end, 20)
  result.hover = hover

  -- <C-x><C-o> on a new line of the import list completes a module name.
  local row = vim.api.nvim_win_get_cursor(0)[1]
  vim.api.nvim_buf_set_lines(buf, row, row, false, { "      mon" })
  vim.api.nvim_win_set_cursor(0, { row + 1, 8 })
  local completion
  local timer = vim.loop.new_timer()
  local started = vim.loop.now()
  timer:start(50, 50, vim.schedule_wrap(function()
    local info = vim.fn.complete_info({ "items" })
    if #info.items > 0 or vim.loop.now() - started > 20000 then
      timer:stop()
      completion = {}
      for _, item in ipairs(info.items) do table.insert(completion, item.word) end
      vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<C-e><Esc>", true, false, true), "n", false)
    end
  end))
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("A<C-x><C-o>", true, false, true), "xn!", false)
  vim.wait(25000, function() return completion ~= nil end, 20)
  result.completion = completion
  vim.api.nvim_buf_set_lines(buf, row, row + 1, false, {})

  -- <leader>rn renames the module in its definition and in every machine that imports it.
  if result.rename_provider then
    cursor_on(buf, "      monitoring", 8)
    vim.ui.input = function(opts, on_confirm)
      result.rename_default = opts.default
      on_confirm("metrics")
    end
    press(leader .. "rn")
    local renamed = {}
    result.renamed = vim.wait(20000, function()
      renamed = {}
      for _, b in ipairs(vim.api.nvim_list_bufs()) do
        if vim.api.nvim_buf_is_loaded(b) and has(b, "metrics") then
          table.insert(renamed, vim.api.nvim_buf_get_name(b))
        end
      end
      return #renamed >= 5
    end, 20)
    table.sort(renamed)
    result.renamed_files = renamed
    result.monitoring_left = has(buf, "monitoring")
  else
    table.insert(result.skipped, "rename: the server's initialize result has no renameProvider")
  end

  -- Kill the server: the next Nix buffer gets a fresh client that answers.
  local pid = client.rpc.pid
  vim.loop.kill(pid, "sigkill")
  result.stopped = vim.wait(20000, function()
    return vim.lsp.get_client_by_id(first) == nil or vim.lsp.get_client_by_id(first).is_stopped()
  end, 20)
  vim.cmd("edit " .. vim.fn.fnameescape(root .. "/modules/nixos/builder.nix"))
  local builder = vim.api.nvim_get_current_buf()
  vim.wait(20000, function() return #clients(builder) > 0 end, 20)
  local fresh = clients(builder)[1]
  result.restarted = fresh ~= nil and fresh ~= first
  result.fresh_pid_differs = fresh ~= nil and vim.lsp.get_client_by_id(fresh).rpc.pid ~= pid
  -- :edit re-attaches a buffer that was open when the server died.
  vim.cmd("buffer " .. buf)
  vim.cmd("edit!")
  result.reattached = vim.wait(20000, function() return clients(buf)[1] == fresh end, 20)
  vim.cmd("buffer " .. builder)
  cursor_on(builder, "nixos.builder", 6)
  local responses = vim.lsp.buf_request_sync(builder, "textDocument/hover",
    vim.lsp.util.make_position_params(), 20000)
  for _, response in pairs(responses or {}) do
    if response.result then
      result.hover_after_restart = response.result.contents.value
    end
  end
end)
if not ok then result.error = tostring(err) end
finish()
"#;

/// The fleet copy with `monitoring` misspelt in krypton's imports.
fn broken_fleet() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, root) = editor::fleet_copy();
    editor::edit_file(
        &root,
        "modules/machines/nixos/krypton/default.nix",
        "      monitoring\n",
        "      monitorng\n",
    );
    (dir, root)
}

/// Neovim as a user starts it, with `init` as the config directory's only content besides
/// the set-up (linked, unchanged, into `plugin/`), running `script` after start-up.
fn nvim(nvim: &Path, work: &Path, root: &Path, args: &[&str], script: &str) -> Value {
    let config = work.join("home/.config/nvim");
    std::fs::create_dir_all(config.join("plugin")).unwrap();
    std::os::unix::fs::symlink(
        editor::shipped("neovim/infra-check.lua"),
        config.join("plugin/infra-check.lua"),
    )
    .unwrap();
    let script_path = work.join("session.lua");
    std::fs::write(&script_path, script).unwrap();
    let mut command = Command::new(nvim);
    command
        .args(["--headless", "-n", "-i", "NONE"])
        .args(args)
        .arg("-c")
        .arg(format!("luafile {}", script_path.display()))
        .env("INFRA_CHECK_ROOT", root)
        .current_dir(root);
    editor::run_editor(command, work, &work.join("out.json"))
}

#[test]
fn neovim_with_the_shipped_setup_diagnoses_fixes_navigates_completes_and_restarts() {
    let Some(nvim_bin) = editor::require_tool("nvim") else {
        return;
    };
    let (_dir, root) = broken_fleet();
    let work = tempfile::tempdir().unwrap();
    let result = nvim(&nvim_bin, work.path(), &root, &[], SESSION);
    assert!(
        result.get("error").is_none(),
        "the session failed: {result}"
    );
    assert_eq!(result["filetype"], "nix", "{result}");
    assert_eq!(result["attached"], true, "no infra-check client: {result}");
    assert_eq!(result["published"], true, "no diagnostics: {result}");
    let diagnostics = result["diagnostics"].as_array().unwrap();
    let typo = diagnostics
        .iter()
        .find(|d| d["code"] == "module/undefined")
        .unwrap_or_else(|| panic!("no module/undefined diagnostic: {result}"));
    assert_eq!(typo["lnum"], 15, "{result}");
    assert_eq!(typo["col"], 6, "{result}");
    assert!(
        typo["message"].as_str().unwrap().contains("monitorng"),
        "{result}"
    );

    assert_eq!(result["omnifunc"], "v:lua.vim.lsp.omnifunc", "{result}");
    let keys = &result["keys"];
    for lhs in ["K", "gd", "gr", "\\ca"] {
        assert!(
            keys[lhs]
                .as_str()
                .is_some_and(|d| d.starts_with("infra-check")),
            "no buffer-local {lhs}: {result}"
        );
    }
    // Keys are only mapped for what the server supports.
    assert_eq!(
        keys["\\rn"].is_string(),
        result["rename_provider"] == true,
        "{result}"
    );

    assert_eq!(
        result["code_action_fixed"], true,
        "the code action did not fix the typo: {result}"
    );
    let actions = result["code_actions"].as_array().unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a.as_str().unwrap().contains("monitoring")),
        "{result}"
    );
    assert_eq!(
        result["cleared"], true,
        "the fixed typo is still reported: {result}"
    );

    let defining = root.join("modules/nixos/monitoring.nix");
    assert_eq!(
        result["definition"],
        defining.to_str().unwrap(),
        "gd did not land in the defining file: {result}"
    );
    assert_eq!(result["definition_line"], 5, "{result}");

    editor::assert_lists(&result, "references", &root, &editor::MONITORING_IMPORTERS);

    let hover = result["hover"]
        .as_str()
        .unwrap_or_else(|| panic!("K showed nothing: {result}"));
    assert!(hover.contains("monitoring"), "{hover}");

    let completion = result["completion"].as_array().unwrap();
    assert!(
        completion.iter().any(|w| w == "monitoring"),
        "omnifunc did not complete `monitoring`: {result}"
    );

    assert_eq!(
        result["rename_provider"], true,
        "the server offers rename: {result}"
    );
    if result["rename_provider"] == true {
        assert_eq!(
            result["renamed"], true,
            "rename did not reach every file: {result}"
        );
        let mut renamed = vec!["modules/nixos/monitoring.nix"];
        renamed.extend(editor::MONITORING_IMPORTERS);
        editor::assert_lists(&result, "renamed_files", &root, &renamed);
        assert_eq!(result["rename_default"], "monitoring", "{result}");
        assert_eq!(result["monitoring_left"], false, "{result}");
    } else {
        eprintln!(
            "skipped: the rename step, because the server has no renameProvider \
             (re-run this test once rename is merged)"
        );
    }

    assert_eq!(result["stopped"], true, "the killed server: {result}");
    assert_eq!(
        result["restarted"], true,
        "a new buffer after the crash did not get a fresh client: {result}"
    );
    assert_eq!(result["fresh_pid_differs"], true, "{result}");
    assert_eq!(
        result["reattached"], true,
        ":edit did not re-attach an open buffer: {result}"
    );
    let hover = result["hover_after_restart"]
        .as_str()
        .unwrap_or_else(|| panic!("the fresh client does not answer: {result}"));
    assert!(hover.contains("builder"), "{hover}");
}

/// A broken file, then fixed in the buffer: the diagnostic arrives, then clears.
const SHOW_AND_CLEAR: &str = r#"
local out = os.getenv("INFRA_CHECK_OUT")
local result = {}
local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("INFRA_CHECK_ROOT") .. "/modules/broken.nix"))
  local buf = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo.filetype
  result.published = vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code
    if code == nil and d.user_data and d.user_data.lsp then code = d.user_data.lsp.code end
    table.insert(result.diagnostics, {
      lnum = d.lnum, col = d.col, severity = d.severity, source = d.source, code = code,
    })
  end
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "{", "  a = 1;", "}" })
  result.cleared = vim.wait(30000, function() return #vim.diagnostic.get(buf) == 0 end, 20)
end)
if not ok then result.error = tostring(err) end
vim.fn.writefile({ vim.fn.json_encode(result) }, out)
vim.cmd("qall!")
"#;

/// The other documented way: `nvim -u NONE` (no config, no filetype detection) loading the
/// set-up with `luafile`, with the binary given by `vim.g.infra_check_cmd`.
#[test]
fn neovim_without_config_loads_the_setup_with_luafile_and_a_configured_command() {
    let Some(nvim_bin) = editor::require_tool("nvim") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(
        root.join("flake.nix"),
        "{\n  outputs = _: { nixosModules.broken = ./modules/broken.nix; };\n}\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("modules")).unwrap();
    std::fs::write(root.join("modules/broken.nix"), "{\n  a = 1;\n  b = ;\n}\n").unwrap();
    let work = tempfile::tempdir().unwrap();
    // The command is the absolute path of the `infra-check` that run_editor puts on PATH.
    let cmd = format!(
        "lua vim.g.infra_check_cmd = {{ '{}', 'lsp' }}",
        work.path().join("bin/infra-check").display()
    );
    let luafile = format!(
        "luafile {}",
        editor::shipped("neovim/infra-check.lua").display()
    );
    let result = nvim(
        &nvim_bin,
        work.path(),
        &root,
        &["-u", "NONE", "--cmd", &cmd, "--cmd", &luafile],
        SHOW_AND_CLEAR,
    );
    assert!(result.get("error").is_none(), "the script failed: {result}");
    assert_eq!(result["filetype"], "nix", "{result}");
    assert_eq!(result["published"], true, "no diagnostics: {result}");
    let diags = result["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{result}");
    assert_eq!(diags[0]["code"], "syntax/parse-error", "{result}");
    assert_eq!(diags[0]["source"], "infra-check", "{result}");
    assert_eq!(diags[0]["lnum"], 2, "{result}");
    assert_eq!(diags[0]["col"], 6, "{result}");
    assert_eq!(diags[0]["severity"], 1, "{result}"); // vim.diagnostic.severity.ERROR
    assert_eq!(result["cleared"], true, "{result}");
}
