-- infra-check for Neovim's built-in LSP client (Neovim 0.7 or newer).
--
-- Install: copy or link this file to ~/.config/nvim/plugin/infra-check.lua (Neovim loads it
-- at start-up), or load it from your init file with `luafile /path/to/infra-check.lua`
-- (init.vim) or `dofile('/path/to/infra-check.lua')` (init.lua). It runs `infra-check lsp`
-- from PATH for Nix files, one server per flake (the nearest directory with a flake.nix),
-- next to any other Nix server you use (nil, nixd).
--
-- Options, set before the file is loaded:
--   vim.g.infra_check_cmd = { '/path/to/infra-check', 'lsp' }  -- default { 'infra-check', 'lsp' }
--   vim.g.infra_check_keys = false                             -- no key mappings
--
-- In Nix buffers it sets 'omnifunc' (<C-x><C-o> completes) and, when the server offers them,
-- buffer-local keys: K hover, gd definition, gr references, <leader>rn rename,
-- <leader>ca code action. After the server stops (a crash, :LspStop), the next Nix buffer
-- opened, or a buffer re-read with :edit, starts a fresh server.

if vim.g.loaded_infra_check then
  return
end
vim.g.loaded_infra_check = true

local function root_dir(fname)
  if fname == '' then
    return nil
  end
  local dir = vim.fn.fnamemodify(fname, ':p:h')
  while true do
    if vim.fn.filereadable(dir .. '/flake.nix') == 1 then
      return dir
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return nil
    end
    dir = parent
  end
end

-- Each key is set only when the server has the capability behind it.
local keys = {
  { 'K', 'hoverProvider', vim.lsp.buf.hover, 'infra-check: hover' },
  { 'gd', 'definitionProvider', vim.lsp.buf.definition, 'infra-check: go to definition' },
  { 'gr', 'referencesProvider', vim.lsp.buf.references, 'infra-check: references' },
  { '<leader>rn', 'renameProvider', vim.lsp.buf.rename, 'infra-check: rename' },
  { '<leader>ca', 'codeActionProvider', vim.lsp.buf.code_action, 'infra-check: code action' },
}

local function on_attach(client, bufnr)
  local caps = client.server_capabilities or {}
  if caps.completionProvider then
    vim.bo[bufnr].omnifunc = 'v:lua.vim.lsp.omnifunc'
  end
  if vim.g.infra_check_keys == false then
    return
  end
  for _, key in ipairs(keys) do
    if caps[key[2]] then
      vim.keymap.set('n', key[1], key[3], { buffer = bufnr, silent = true, desc = key[4] })
    end
  end
end

local function config_for(root)
  return {
    name = 'infra-check',
    cmd = vim.g.infra_check_cmd or { 'infra-check', 'lsp' },
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    on_attach = on_attach,
  }
end

-- Neovim 0.7 has no vim.lsp.start: keep one client per root, and forget it when it exits so
-- that the next buffer starts a fresh one instead of attaching to a dead client.
local clients = {}

local function start_0_7(root, bufnr)
  local id = clients[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or client.is_stopped() then
    local config = config_for(root)
    config.on_exit = function(_, _, client_id)
      if clients[root] == client_id then
        clients[root] = nil
      end
    end
    id = vim.lsp.start_client(config)
    if not id then
      return
    end
    clients[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
end

local function start(bufnr)
  local root = root_dir(vim.api.nvim_buf_get_name(bufnr))
  if not root then
    return
  end
  if vim.lsp.start then
    -- 0.8 and newer reuse a live client with the same name and root, and start a new one
    -- once it has exited.
    vim.lsp.start(config_for(root), { bufnr = bufnr })
  else
    start_0_7(root, bufnr)
  end
end

local group = vim.api.nvim_create_augroup('infra-check', { clear = true })

-- Without filetype detection (or with a runtime that does not know Nix) *.nix stays plain.
vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
  group = group,
  pattern = '*.nix',
  callback = function(args)
    if vim.bo[args.buf].filetype == '' then
      vim.bo[args.buf].filetype = 'nix'
    end
  end,
})

vim.api.nvim_create_autocmd('FileType', {
  group = group,
  pattern = 'nix',
  callback = function(args)
    start(args.buf)
  end,
})

-- Nix buffers opened before this file was loaded.
for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
  if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype == 'nix' then
    start(bufnr)
  end
end
