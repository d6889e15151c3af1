# The Nix half of `infra-check options dump` (see options_dump.rs, which embeds this file):
# a function from a configuration's evaluated `options` tree to a flat catalog,
#
#   { format = 1;
#     options = {
#       "services.openssh.enable" = {
#         type = { name = "bool"; };
#         hasDefault = true;
#         description = "Whether to enable the OpenSSH daemon.";
#       };
#       "services.openssh.ports" = {
#         type = { name = "listOf"; elemType = { name = "unsignedInt16"; }; };
#         hasDefault = true;
#         description = "…";
#       };
#     };
#   }
#
# Only builtins are used (no nixpkgs `lib`), so it works with any nixpkgs and nix-darwin.
# Nothing but option declarations is read: no option's value is evaluated, so the machine's
# configuration is never built. Every step is guarded with `builtins.tryEval` so that one
# option that fails to evaluate is left out instead of failing the whole dump. `tryEval` only
# catches `throw` and `assert`, so everything else (missing attributes, wrong types) is
# avoided with `or` and `builtins.is*` checks. Submodule options are not expanded.
options:
let
  # Deepest option path (in attribute names) and deepest type tree that are followed.
  maxDepth = 12;

  # `v` forced completely, or `fallback` when that throws.
  try =
    fallback: v:
    let
      r = builtins.tryEval (builtins.deepSeq v v);
    in
    if r.success then r.value else fallback;

  isStringList = v: builtins.isList v && builtins.all builtins.isString v;

  # `attrs` without the attributes whose value is null.
  withoutNulls =
    attrs: builtins.removeAttrs attrs (builtins.filter (k: attrs.${k} == null) (builtins.attrNames attrs));

  # A type as a small tree: its name, plus where present the element type (`listOf`,
  # `attrsOf`, `lazyAttrsOf`, `nullOr`, …), the two sides of `either`, and the values of an
  # `enum` of strings. null when `t` is not a type with a name.
  typeTree =
    depth: t:
    if depth > maxDepth || !(builtins.isAttrs t) || !(builtins.isString (t.name or null)) then
      null
    else
      let
        nested = t.nestedTypes or { };
        # A nested type, or null when there is none or it fails to evaluate.
        sub =
          key:
          try null (
            if builtins.isAttrs nested && nested ? ${key} then typeTree (depth + 1) nested.${key} else null
          );
        # nixpkgs before 24.11 keeps an enum's values in `functor.payload`, later ones in
        # `functor.payload.values`.
        values = try null (
          let
            payload = t.functor.payload or null;
            vs = if builtins.isAttrs payload then payload.values or null else payload;
          in
          if isStringList vs then vs else null
        );
      in
      { inherit (t) name; }
      // withoutNulls {
        elemType = sub "elemType";
        left = sub "left";
        right = sub "right";
        values = if t.name == "enum" then values else null;
      };

  # Descriptions are strings, or `{ _type = "mdDoc"; text = …; }` from `lib.mdDoc` in some
  # nixpkgs versions.
  describe =
    o:
    let
      d = o.description or null;
    in
    if builtins.isString d then
      d
    else if builtins.isAttrs d && builtins.isString (d.text or null) then
      d.text
    else
      null;

  # The catalog entry of one option, or null when its type cannot be evaluated.
  entry =
    o:
    let
      type = typeTree 0 (o.type or null);
    in
    if type == null then
      null
    else
      {
        inherit type;
        hasDefault = o ? default;
        # A description that fails to evaluate does not make the option unknown.
        description = try null (describe o);
      };

  # Every option at or below `node` as `{ name = "a.b.c"; value = entry; }`.
  walk =
    depth: path: node:
    if depth > maxDepth || !(try false (builtins.isAttrs node)) then
      [ ]
    else if try false ((node._type or null) == "option") then
      let
        e = try null (entry node);
      in
      if e == null || path == [ ] then
        [ ]
      else
        [
          {
            name = builtins.concatStringsSep "." path;
            value = e;
          }
        ]
    else
      builtins.concatMap (name: walk (depth + 1) (path ++ [ name ]) node.${name}) (
        try [ ] (builtins.filter (name: name != "_module") (builtins.attrNames node))
      );
in
{
  format = 1;
  options = builtins.listToAttrs (walk 0 [ ] options);
}
