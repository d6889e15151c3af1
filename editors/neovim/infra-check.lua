-- infra-check for Neovim's built-in LSP client (0.7 or newer).
-- Put this file on your runtimepath (e.g. ~/.config/nvim/plugin/infra-check.lua).
local function root_dir(fname)
  local dir = vim.fn.fnamemodify(fname, ':p:h')
  while dir ~= '/' do
    if vim.fn.filereadable(dir .. '/flake.nix') == 1 then
      return dir
    end
    dir = vim.fn.fnamemodify(dir, ':h')
  end
  return nil
end

vim.api.nvim_create_autocmd('FileType', {
  pattern = 'nix',
  callback = function(args)
    local root = root_dir(vim.api.nvim_buf_get_name(args.buf))
    if not root then
      return
    end
    local config = {
      name = 'infra-check',
      cmd = { 'infra-check', 'lsp' },
      root_dir = root,
    }
    if vim.lsp.start then
      vim.lsp.start(config)
    else
      -- Neovim 0.7: start once per root and attach.
      _G.infra_check_clients = _G.infra_check_clients or {}
      local id = _G.infra_check_clients[root]
      if not id then
        id = vim.lsp.start_client(config)
        _G.infra_check_clients[root] = id
      end
      vim.lsp.buf_attach_client(args.buf, id)
    end
  end,
})
