{
  flake.modules.nixos.base = {
    time.timeZone = "UTC";
    i18n.defaultLocale = "en_US.UTF-8";
    console.keyMap = "us";
  };
}
