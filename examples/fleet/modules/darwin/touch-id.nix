{
  flake.modules.darwin.base = {
    security.pam.services.sudo_local.touchIdAuth = true;
  };
}
