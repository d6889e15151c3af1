# Who is who. The single source of truth for personal SSH keys; machines read it as
# `config.flake.lib.identities` (flake-parts side) or `inputs.self.lib.identities`.
{
  flake.lib.identities = {
    ada = {
      fullName = "Ada Example";
      email = "ada@example.org";
      sshKeys = [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPsVUHIBE8zj5/JxljlxfY/0pWku1QELP6FgyOA0zlR2 ada@cobalt"
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKM0g1GFa0RtHfaJ4HERH/3jR2UpXBUa7qEbolTqUKCH ada@indium"
      ];
    };
    rowan = {
      fullName = "Rowan Example";
      email = "rowan@example.org";
      sshKeys = [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOBjLB9cjK/PNwKcZBtUSpBTlRkveRwrgaTg91wq8k7 rowan@gallium"
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGr2g9usih0R2mxeSXi7YzabEBoxdMS1M+hQVT/w2N6U rowan@bismuth"
      ];
    };
  };
}
