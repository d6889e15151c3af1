# A small stand-in for nixpkgs' `lib`, for the differential tests in
# ../eval_differential_lib.rs. It implements only the functions the partial evaluator models,
# following the behaviour the nixpkgs manual documents for them; it is not nixpkgs' source.
#
# The tests run `({ lib, ... }: <expr>) { lib = import ./lib.nix; }` with nix-instantiate and
# compare the result with `infra_check_analysis::eval::eval_in_dir(dir, expr, true)`.
let
  inherit (builtins)
    all
    any
    attrNames
    attrValues
    catAttrs
    concatLists
    concatMap
    concatStringsSep
    elem
    elemAt
    filter
    foldl'
    fromJSON
    genList
    getAttr
    hasAttr
    head
    intersectAttrs
    isAttrs
    isBool
    isFunction
    isInt
    isList
    isString
    length
    listToAttrs
    map
    mapAttrs
    removeAttrs
    replaceStrings
    stringLength
    substring
    tail
    toJSON
    toString
    ;

  # ---------------------------------------------------------------- module system wrappers
  # Each wrapper only builds a tagged attrset; the module system interprets the tags later,
  # so nothing is checked when they are built (a non-boolean `mkIf` condition is fine here).
  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  mkMerge = contents: {
    _type = "merge";
    inherit contents;
  };
  mkOverride = priority: content: {
    _type = "override";
    inherit priority content;
  };
  mkDefault = mkOverride 1000;
  mkForce = mkOverride 50;
  mkOrder = priority: content: {
    _type = "order";
    inherit priority content;
  };
  mkBefore = mkOrder 500;
  mkAfter = mkOrder 1500;

  # ---------------------------------------------------------------- conditionals
  # `[ x ]` when the condition holds, else `[ ]`.
  optional = cond: x: if cond then [ x ] else [ ];
  # The list itself when the condition holds, else `[ ]`.
  optionals = cond: xs: if cond then xs else [ ];
  # The attrset itself when the condition holds, else `{ }`.
  optionalAttrs = cond: set: if cond then set else { };
  # The string itself when the condition holds, else `""`.
  optionalString = cond: s: if cond then s else "";

  # ---------------------------------------------------------------- attrsets
  # An attrset with one attribute per name, valued `f name`.
  genAttrs =
    names: f:
    listToAttrs (
      map (n: {
        name = n;
        value = f n;
      }) names
    );
  # `f name value` for every attribute, in attribute-name order.
  mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
  # The attributes for which `pred name value` is true.
  filterAttrs =
    pred: set:
    listToAttrs (
      concatMap (
        n:
        let
          v = set.${n};
        in
        if pred n v then
          [
            {
              name = n;
              value = v;
            }
          ]
        else
          [ ]
      ) (attrNames set)
    );

  # ---------------------------------------------------------------- strings
  # Whether `s` starts with `pre`.
  hasPrefix = pre: s: substring 0 (stringLength pre) s == pre;
  # Whether `s` ends with `suf`.
  hasSuffix =
    suf: s:
    let
      ls = stringLength s;
      lsuf = stringLength suf;
    in
    ls >= lsuf && substring (ls - lsuf) lsuf s == suf;
  # Whether `inf` occurs anywhere in `s` (the empty string occurs everywhere).
  hasInfix =
    inf: s:
    let
      li = stringLength inf;
      ls = stringLength s;
    in
    any (i: substring i li s == inf) (genList (i: i) (ls - li + 1));

  # ---------------------------------------------------------------- lists
  # Nested lists spliced into one list; a non-list becomes a one-element list.
  flatten = x: if isList x then concatMap flatten x else [ x ];
  # The list without repeated elements, keeping the first occurrence of each.
  unique = foldl' (seen: x: if elem x seen then seen else seen ++ [ x ]) [ ];
  # Whether the list `pre` is a prefix of the list `xs` (the list function of this name,
  # unrelated to the string one at the top level).
  listHasPrefix = pre: xs: length pre <= length xs && genList (elemAt xs) (length pre) == pre;

  # ---------------------------------------------------------------- options
  # An option declaration: its attributes, tagged.
  mkOption = attrs: attrs // { _type = "option"; };
  # A boolean option that defaults to false.
  mkEnableOption =
    name:
    mkOption {
      default = false;
      example = true;
      description = "Whether to enable ${name}.";
      type = types.bool;
    };
  # Option types: only the tag and the name, which is all the tests compare (nixpkgs' types
  # carry much more: checks, merge functions, descriptions, nested types).
  mkType = name: {
    _type = "option-type";
    inherit name;
  };
  types = {
    str = mkType "str";
    bool = mkType "bool";
    int = mkType "int";
    attrs = mkType "attrs";
    anything = mkType "anything";
    package = mkType "package";
    path = mkType "path";
    deferredModule = mkType "deferredModule";
    listOf = elemType: mkType "listOf";
    attrsOf = elemType: mkType "attrsOf";
    lazyAttrsOf = elemType: mkType "lazyAttrsOf";
    either = a: b: mkType "either";
    nullOr = elemType: mkType "nullOr";
    enum = values: mkType "enum";
    submodule = module: mkType "submodule";
  };

  strings = {
    inherit
      concatStringsSep
      elem
      elemAt
      filter
      fromJSON
      genList
      hasInfix
      hasPrefix
      hasSuffix
      head
      isInt
      isList
      isAttrs
      isString
      optionalString
      replaceStrings
      stringLength
      substring
      tail
      toJSON
      ;
  };

  attrsets = {
    inherit
      attrNames
      attrValues
      catAttrs
      filterAttrs
      genAttrs
      getAttr
      hasAttr
      intersectAttrs
      isAttrs
      listToAttrs
      mapAttrs
      mapAttrsToList
      optionalAttrs
      removeAttrs
      ;
  };

  lists = {
    inherit
      all
      any
      concatLists
      concatMap
      elem
      elemAt
      filter
      flatten
      foldl'
      genList
      head
      isList
      length
      optional
      optionals
      tail
      unique
      ;
    hasPrefix = listHasPrefix;
  };

  modules = {
    inherit
      mkAfter
      mkBefore
      mkDefault
      mkForce
      mkIf
      mkMerge
      mkOrder
      mkOverride
      ;
  };

  options = {
    inherit mkEnableOption mkOption;
  };
in
{
  inherit
    # namespaces
    attrsets
    lists
    modules
    options
    strings
    types
    # module system
    mkAfter
    mkBefore
    mkDefault
    mkForce
    mkIf
    mkMerge
    mkOrder
    mkOverride
    mkOption
    mkEnableOption
    # lib's own functions
    optional
    optionals
    optionalAttrs
    optionalString
    genAttrs
    mapAttrsToList
    filterAttrs
    hasPrefix
    hasSuffix
    hasInfix
    flatten
    unique
    # re-exported builtins
    all
    any
    attrNames
    attrValues
    catAttrs
    concatLists
    concatMap
    concatStringsSep
    elem
    elemAt
    filter
    foldl'
    fromJSON
    genList
    getAttr
    hasAttr
    head
    intersectAttrs
    isAttrs
    isBool
    isFunction
    isInt
    isList
    isString
    length
    listToAttrs
    map
    mapAttrs
    removeAttrs
    replaceStrings
    stringLength
    substring
    tail
    toJSON
    toString
    ;
}
