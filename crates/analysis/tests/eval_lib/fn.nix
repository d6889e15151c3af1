# A function file: `import ./fn.nix { x = 1; }`.
{ x, y ? 10, ... }@args:
{
  sum = x + y;
  names = builtins.attrNames args;
}
