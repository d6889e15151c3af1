{
  flake.modules.nixos.nvidia =
    { config, lib, ... }:
    {
      nixpkgs.config.allowUnfreePredicate =
        pkg:
        builtins.elem (lib.getName pkg) [
          "nvidia-x11"
          "nvidia-settings"
          "cuda_cudart"
          "cuda_nvcc"
          "libcublas"
        ];

      hardware.graphics.enable = true;
      hardware.nvidia = {
        open = true;
        modesetting.enable = true;
        nvidiaSettings = false;
        package = config.boot.kernelPackages.nvidiaPackages.production;
      };
      services.xserver.videoDrivers = [ "nvidia" ];
      hardware.nvidia-container-toolkit.enable = true;
      virtualisation.podman.enable = true;
    };
}
