# A second fragment of homeManager.base; the user modules add name and e-mail.
{
  flake.modules.homeManager.base = {
    programs.git = {
      enable = true;
      settings = {
        init.defaultBranch = "main";
        pull.rebase = true;
        push.autoSetupRemote = true;
        rerere.enabled = true;
      };
      ignores = [
        ".direnv"
        "result"
        "result-*"
      ];
    };
  };
}
