;;; infra-check.el --- infra-check for Nix files through eglot  -*- lexical-binding: t; -*-

;;; Commentary:

;; Works with Emacs 28.2 and eglot 1.9 (Debian: `apt install emacs-nox elpa-eglot') and newer,
;; with or without `nix-mode' / `nix-ts-mode'.
;;
;; Install: put `(load "/path/to/editors/emacs/infra-check.el")' in your init file, after the
;; lines that set up nix-mode or nix-ts-mode if you use one.  Opening a Nix file then starts
;; eglot (`eglot-ensure') with `infra-check lsp' from PATH, one server per flake (the nearest
;; directory with a flake.nix), also outside a git checkout.
;;
;; What it does:
;; - Without nix-mode or nix-ts-mode, *.nix files open in `infra-check-nix-mode', a minimal
;;   mode (comments, strings, indentation of the previous line) so that eglot has a major mode
;;   to attach to.
;; - It adds an entry to `eglot-server-programs' for the Nix modes in front of the existing one,
;;   which stays as the fallback: eglot manages a buffer with one server at a time, so the
;;   entry picks the first program found among infra-check, the Nix server configured before
;;   (eglot 1.9's default is rnix-lsp) and nil and nixd.  `M-x eglot' asks which one when
;;   several are installed; set `infra-check-eglot-first' to nil to prefer the others.
;; - `project-find-functions' gets a hook that, only when eglot asks about a Nix buffer, takes
;;   the nearest directory with a flake.nix as the project, so that every file of the flake
;;   shares one server.

;;; Code:

(require 'eglot)
(require 'project)
(require 'cl-lib)

(defgroup infra-check nil
  "The infra-check language server for Nix infrastructure repositories."
  :group 'tools)

(defcustom infra-check-program "infra-check"
  "The infra-check executable: a name or an absolute file name.
A name is looked up in the variable `exec-path'."
  :type 'string)

(defcustom infra-check-eglot-first t
  "Non-nil: eglot uses infra-check for Nix files when it is found.
Nil: infra-check is used only when none of the other Nix servers is installed."
  :type 'boolean)

(defcustom infra-check-other-servers '(("nil") ("nixd"))
  "Other Nix language servers eglot may use, each a list (PROGRAM ARGS...).
The Nix entry of `eglot-server-programs' found when this file was loaded
comes before them."
  :type '(repeat (repeat string)))

(defconst infra-check--nix-modes '(nix-mode nix-ts-mode infra-check-nix-mode)
  "The major modes of Nix buffers.")

(defvar infra-check-nix-mode-syntax-table
  (let ((table (make-syntax-table)))
    (modify-syntax-entry ?# "<" table)
    (modify-syntax-entry ?\n ">" table)
    (modify-syntax-entry ?/ ". 14" table)
    (modify-syntax-entry ?* ". 23" table)
    (modify-syntax-entry ?\" "\"" table)
    (modify-syntax-entry ?' "." table)
    (modify-syntax-entry ?- "_" table)
    (modify-syntax-entry ?_ "_" table)
    (modify-syntax-entry ?= "." table)
    (modify-syntax-entry ?\; "." table)
    table)
  "Syntax of Nix: # and /* */ comments, double-quoted strings, names with - and _.")

(define-derived-mode infra-check-nix-mode prog-mode "Nix"
  "A minimal major mode for Nix files.
For when neither nix-mode nor nix-ts-mode is installed."
  :syntax-table infra-check-nix-mode-syntax-table
  (setq-local comment-start "# ")
  (setq-local comment-start-skip "#+\\s-*")
  (setq-local indent-line-function #'indent-relative))

(unless (or (fboundp 'nix-mode) (fboundp 'nix-ts-mode))
  (add-to-list 'auto-mode-alist '("\\.nix\\'" . infra-check-nix-mode)))

(defun infra-check--programs (contact)
  "The (PROGRAM ARGS...) lists of CONTACT, if it has any.
CONTACT is the contact of an entry of `eglot-server-programs'."
  (cond ((and (consp contact) (cl-every #'stringp contact)) (list contact))
        ((stringp contact) (list (list contact)))))

(defvar infra-check--previous-contact
  (cl-loop for (modes . contact) in eglot-server-programs
           for symbols = (mapcar (lambda (m) (if (consp m) (car m) m))
                                 (if (or (symbolp modes) (keywordp (cadr modes)))
                                     (list modes)
                                   modes))
           when (cl-intersection symbols '(nix-mode nix-ts-mode))
           return contact)
  "The contact of the Nix entry of `eglot-server-programs' before this file.")

(defun infra-check-eglot-contact (&optional interactive)
  "Return the server for eglot to start for a Nix buffer.
See `infra-check-eglot-first'.
INTERACTIVE (from `M-x eglot') asks which one when several are installed."
  (let* ((ours (list (list infra-check-program "lsp")))
         (others (append (infra-check--programs infra-check--previous-contact)
                         infra-check-other-servers))
         (programs (cl-remove-duplicates
                    (if infra-check-eglot-first (append ours others) (append others ours))
                    :test #'equal :from-end t)))
    (if (or interactive
            (cl-some (lambda (p) (executable-find (car p))) programs)
            (not (functionp infra-check--previous-contact)))
        (funcall (eglot-alternatives programs) interactive)
      ;; None found: the previous entry may know servers the list above does not.
      (funcall infra-check--previous-contact interactive))))

(add-to-list 'eglot-server-programs
             `(,(mapcar (lambda (mode) (list mode :language-id "nix")) infra-check--nix-modes)
               . infra-check-eglot-contact))

(defun infra-check--nix-buffer-p ()
  "Is the current buffer in one of the Nix major modes?"
  (apply #'derived-mode-p infra-check--nix-modes))

(defun infra-check-project-find (dir)
  "Return the flake containing DIR as a transient project.
Only when eglot asks about a Nix buffer: elsewhere `project-current'
finds projects as before."
  (when (and (bound-and-true-p eglot-lsp-context) (infra-check--nix-buffer-p))
    (let ((root (locate-dominating-file dir "flake.nix")))
      (when root
        (cons 'transient (file-name-as-directory (expand-file-name root)))))))

;; Before `project-try-vc': a flake inside a larger git checkout is its own workspace.
(add-hook 'project-find-functions #'infra-check-project-find -50)

(dolist (mode infra-check--nix-modes)
  (add-hook (intern (format "%s-hook" mode)) #'eglot-ensure))

(provide 'infra-check)
;;; infra-check.el ends here
