;;; infra-check.el --- infra-check language server for Nix files via eglot  -*- lexical-binding: t; -*-

;; Load this file (or copy the form below) after `nix-mode' or `nix-ts-mode' is available.
;; eglot runs one server per project; infra-check finds the flake root itself.

(require 'eglot)

(add-to-list 'eglot-server-programs
             '((nix-mode nix-ts-mode) . ("infra-check" "lsp")))

(provide 'infra-check)
;;; infra-check.el ends here
