{ y = "from sub/y.nix"; list = map (x: x * 2) [ 1 2 3 ]; }
