//! End to end with a real editor as the client: headless Neovim starts the server binary on a
//! broken file, waits for its diagnostics, fixes the buffer, waits for them to clear, and
//! writes what it saw as JSON. A second run on a small clan fleet (tests/common) also asks for
//! a definition and a hover the way a user's key mappings would.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tower_lsp_server::ls_types::Uri;

const SERVER: &str = env!("CARGO_BIN_EXE_infra-check-lsp-test-server");

/// The path of `tool` on `PATH`. When it is missing the test is skipped with a message, or
/// fails when `INFRA_CHECK_REQUIRE_TOOLS=1` (set by CI, which installs the tools).
fn require_tool(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("INFRA_CHECK_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{tool} is not installed, and INFRA_CHECK_REQUIRE_TOOLS=1 requires it");
        }
        eprintln!("skipped: {tool} not installed");
    }
    found
}

/// Works with Neovim 0.7 (`vim.lsp.start_client`, diagnostic codes under `user_data.lsp`) and
/// later (`vim.lsp.start`). Any error is written to the output instead of hanging the editor.
const SCRIPT: &str = r#"
local out = os.getenv("INFRA_CHECK_OUT")
local function finish(result)
  vim.fn.writefile({ vim.fn.json_encode(result) }, out)
  vim.cmd("qall!")
end
local ok, err = pcall(function()
  local file = os.getenv("INFRA_CHECK_FILE")
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local config = {
    name = "infra-check",
    cmd = { os.getenv("INFRA_CHECK_SERVER") },
    root_dir = os.getenv("INFRA_CHECK_ROOT"),
  }
  if vim.lsp.start then
    vim.lsp.start(config)
  else
    local id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(buf, id)
  end
  local published = vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
  local seen = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code
    if code == nil and d.user_data and d.user_data.lsp then code = d.user_data.lsp.code end
    table.insert(seen, {
      lnum = d.lnum, col = d.col, end_col = d.end_col, severity = d.severity,
      source = d.source, code = code, message = d.message,
    })
  end
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "{", "  a = 1;", "}" })
  local cleared = vim.wait(30000, function() return #vim.diagnostic.get(buf) == 0 end, 50)
  finish({ published = published, cleared = cleared, diagnostics = seen })
end)
if not ok then finish({ error = tostring(err) }) end
"#;

/// On the fleet of tests/common: opens the machine module `web.nix` (which misspells
/// `monitoring`), waits for the diagnostic, goes to the definition of `base`, hovers the
/// machine `web` in the zerotier controller role of `inventory.nix`, then fixes the typo in the
/// buffer and waits for the diagnostic to clear. Positions are set by moving the cursor and
/// taking `make_position_params()`, as the built-in mappings do (Neovim 0.7 has no
/// `vim.lsp.buf_request_sync` helpers beyond this one).
const FLEET_SCRIPT: &str = r#"
local out = os.getenv("INFRA_CHECK_OUT")
local function finish(result)
  vim.fn.writefile({ vim.fn.json_encode(result) }, out)
  vim.cmd("qall!")
end
local ok, err = pcall(function()
  local root = os.getenv("INFRA_CHECK_ROOT")
  local config = {
    name = "infra-check",
    cmd = { os.getenv("INFRA_CHECK_SERVER") },
    root_dir = root,
  }
  local client_id
  local function attach(buf)
    if vim.lsp.start then
      client_id = vim.lsp.start(config)
    else
      client_id = client_id or vim.lsp.start_client(config)
      vim.lsp.buf_attach_client(buf, client_id)
    end
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
  -- The first result of a request at the line and column of the first `needle` (+ delta).
  local function request_at(buf, needle, delta, method)
    local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
    for i, line in ipairs(lines) do
      local col = string.find(line, needle, 1, true)
      if col then
        vim.api.nvim_win_set_cursor(0, { i, col - 1 + delta })
        local params = vim.lsp.util.make_position_params()
        local responses, request_err = vim.lsp.buf_request_sync(buf, method, params, 20000)
        if not responses then error(method .. ": " .. tostring(request_err)) end
        for _, response in pairs(responses) do
          if response.error then error(method .. ": " .. vim.inspect(response.error)) end
          return response.result
        end
        return nil
      end
    end
    error(needle .. " not found")
  end

  vim.cmd("edit " .. vim.fn.fnameescape(root .. "/modules/machines/web.nix"))
  local web = vim.api.nvim_get_current_buf()
  attach(web)
  local published = vim.wait(30000, function() return #vim.diagnostic.get(web) > 0 end, 50)
  local diagnostics = codes(web)

  local definition = request_at(web, "      base", 6, "textDocument/definition")

  vim.cmd("edit " .. vim.fn.fnameescape(root .. "/modules/clan/inventory.nix"))
  local inventory = vim.api.nvim_get_current_buf()
  attach(inventory)
  local hover = request_at(inventory, "controller.machines.web", 20, "textDocument/hover")

  vim.cmd("buffer " .. web)
  local lines = vim.api.nvim_buf_get_lines(web, 0, -1, false)
  for i, line in ipairs(lines) do
    if line == "      monitorng" then
      vim.api.nvim_buf_set_lines(web, i - 1, i, false, { "      monitoring" })
    end
  end
  local cleared = vim.wait(30000, function() return #vim.diagnostic.get(web) == 0 end, 50)
  finish({
    published = published, diagnostics = diagnostics, definition = definition,
    hover = hover, cleared = cleared, after = codes(web),
  })
end)
if not ok then finish({ error = tostring(err) }) end
"#;

fn run_nvim(nvim: &Path, root: &Path, file: &Path) -> Value {
    run_script(nvim, SCRIPT, root, file)
}

fn run_script(nvim: &Path, script_text: &str, root: &Path, file: &Path) -> Value {
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("script.lua");
    let out = work.path().join("out.json");
    std::fs::write(&script, script_text).unwrap();
    let mut child = Command::new(nvim)
        .args(["--headless", "--clean", "-n", "-i", "NONE", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("INFRA_CHECK_OUT", &out)
        .env("INFRA_CHECK_FILE", file)
        .env("INFRA_CHECK_ROOT", root)
        .env("INFRA_CHECK_SERVER", SERVER)
        // Keep Neovim's log and state files out of the user's home.
        .env("XDG_CACHE_HOME", work.path())
        .env("XDG_STATE_HOME", work.path())
        .env("XDG_DATA_HOME", work.path())
        .env("XDG_CONFIG_HOME", work.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nvim");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nvim did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| {
        panic!(
            "nvim wrote no result ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    serde_json::from_str(&text).unwrap()
}

#[test]
fn neovim_shows_and_clears_diagnostics() {
    let Some(nvim) = require_tool("nvim") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let root_path = root.path().canonicalize().unwrap();
    std::fs::write(
        root_path.join("flake.nix"),
        "{\n  outputs = _: { nixosModules.broken = ./modules/broken.nix; };\n}\n",
    )
    .unwrap();
    std::fs::create_dir_all(root_path.join("modules")).unwrap();
    let file = root_path.join("modules/broken.nix");
    std::fs::write(&file, "{\n  a = 1;\n  b = ;\n}\n").unwrap();

    let result = run_nvim(&nvim, &root_path, &file);
    assert!(result.get("error").is_none(), "the script failed: {result}");
    assert_eq!(
        result["published"], true,
        "no diagnostics arrived: {result}"
    );
    let diags = result["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{result}");
    assert_eq!(diags[0]["code"], "syntax/parse-error", "{result}");
    assert_eq!(diags[0]["source"], "infra-check", "{result}");
    assert_eq!(diags[0]["lnum"], 2, "{result}");
    assert_eq!(diags[0]["col"], 6, "{result}");
    assert_eq!(diags[0]["severity"], 1, "{result}"); // vim.diagnostic.severity.ERROR
    assert_eq!(
        result["cleared"], true,
        "fixing the buffer did not clear them: {result}"
    );
}

#[test]
fn neovim_goes_to_definitions_hovers_and_clears_a_fixed_typo() {
    let Some(nvim) = require_tool("nvim") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let root_path = root.path().canonicalize().unwrap();
    common::write_fleet(&root_path);
    let web = root_path.join("modules/machines/web.nix");

    let result = run_script(&nvim, FLEET_SCRIPT, &root_path, &web);
    assert!(result.get("error").is_none(), "the script failed: {result}");
    assert_eq!(
        result["published"], true,
        "no diagnostics arrived: {result}"
    );
    let diags = result["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{result}");
    assert_eq!(diags[0]["code"], "module/undefined", "{result}");
    let (line, col) = common::position_of(common::WEB, "monitorng", 0);
    assert_eq!(diags[0]["lnum"], line, "{result}");
    assert_eq!(diags[0]["col"], col, "{result}");

    let definition = result["definition"].as_array().unwrap_or_else(|| {
        panic!("no definition: {result}");
    });
    let base = root_path.join("modules/base.nix");
    assert_eq!(
        definition[0]["uri"],
        Uri::from_file_path(&base).unwrap().as_str(),
        "{result}"
    );
    let (line, _) = common::position_of(common::BASE, "nixos.base", 0);
    assert_eq!(definition[0]["range"]["start"]["line"], line, "{result}");

    let hover = result["hover"]["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no hover: {result}"));
    assert!(hover.contains("**machine web**"), "{hover}");
    assert!(hover.contains("class: `nixos`"), "{hover}");

    assert_eq!(
        result["cleared"], true,
        "fixing the typo did not clear the diagnostic: {result}"
    );
}
