//! Which mutations exist, how often each is drawn, which are pending fixes on other branches,
//! and the context the builders (`text_kinds.rs`, `tree_kinds.rs`, `data_kinds.rs`) draw from.

use std::ops::Range;
use std::path::Path;

use fastrand::Rng;

use crate::mutation::Mutation;
use crate::tree::{EntryKind, Listing};
use crate::{data_kinds, text_kinds, tree_kinds};

macro_rules! kinds {
    ($($variant:ident = $name:literal, $weight:literal, $build:path;)*) => {
        /// A family of mutations. Its name is what failure classes, statistics and the pending
        /// list use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind { $($variant),* }

        impl Kind {
            pub const ALL: &[Kind] = &[$(Kind::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Kind::$variant => $name),* }
            }

            /// Relative frequency: cheap, common breakage more often than huge inputs.
            pub fn weight(self) -> u32 {
                match self { $(Kind::$variant => $weight),* }
            }

            /// Draws one mutation of this kind, or `None` when the tree has nothing it applies to.
            pub fn build(self, ctx: &mut Ctx) -> Option<Mutation> {
                match self { $(Kind::$variant => $build(ctx)),* }
            }
        }
    };
}

kinds! {
    Truncate = "truncate", 6, text_kinds::truncate;
    DeleteLines = "delete-lines", 6, text_kinds::delete_lines;
    DuplicateLines = "duplicate-lines", 5, text_kinds::duplicate_lines;
    Unbalanced = "unbalanced", 8, text_kinds::unbalanced;
    SwapTokens = "swap-tokens", 5, text_kinds::swap_tokens;
    IdentifierSwap = "identifier-swap", 6, text_kinds::identifier_swap;
    StringSwap = "string-swap", 4, text_kinds::string_swap;
    ImportCycle = "import-cycle", 3, text_kinds::import_cycle;
    SelfReference = "self-reference", 3, text_kinds::self_reference;
    DeepNesting = "deep-nesting", 2, text_kinds::deep_nesting;
    LongSelect = "long-select", 1, text_kinds::long_select;
    LongAttrpath = "long-attrpath", 1, text_kinds::long_attrpath;
    LongApplication = "long-application", 1, text_kinds::long_application;
    LongBinary = "long-binary", 1, text_kinds::long_binary;
    FanOut = "fan-out", 1, text_kinds::fan_out;
    HugeList = "huge-list", 1, text_kinds::huge_list;
    ManyAttrs = "many-attrs", 1, text_kinds::many_attrs;
    HugeFile = "huge-file", 1, text_kinds::huge_file;
    InvalidUtf8 = "invalid-utf8", 3, text_kinds::invalid_utf8;
    NulBytes = "nul-bytes", 3, text_kinds::nul_bytes;
    LineEndings = "line-endings", 3, text_kinds::line_endings;
    SymlinkLoop = "symlink-loop", 3, tree_kinds::symlink_loop;
    DanglingLink = "dangling-link", 3, tree_kinds::dangling_link;
    LinkOutside = "link-outside", 2, tree_kinds::link_outside;
    Unreadable = "unreadable", 3, tree_kinds::unreadable;
    Fifo = "fifo", 3, tree_kinds::fifo;
    DirectoryAsFile = "directory-as-file", 2, tree_kinds::directory_as_file;
    RemovePath = "remove-path", 2, tree_kinds::remove_path;
    OddFileName = "odd-file-name", 2, tree_kinds::odd_file_name;
    NonUtf8FileName = "non-utf8-file-name", 1, tree_kinds::non_utf8_file_name;
    BrokenLock = "broken-flake-lock", 3, data_kinds::broken_lock;
    BrokenInventory = "broken-inventory", 3, data_kinds::broken_inventory;
    ManyMachines = "many-machines", 1, data_kinds::many_machines;
    BrokenConfig = "broken-config", 2, data_kinds::broken_config;
    BrokenCatalog = "broken-catalog", 2, data_kinds::broken_catalog;
    SecretLeak = "secret-leak", 2, data_kinds::secret_leak;
    SecretAsCatalog = "secret-as-catalog", 1, data_kinds::secret_as_catalog;
}

impl Kind {
    pub fn by_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// A class of failures another branch is fixing. While it is listed, the bounded run leaves the
/// kind out (`size_cap: None`) or keeps its inputs below the size that fails today
/// (`size_cap: Some(n)`); the long run and `INFRA_CHECK_FUZZ_DRAW=full` use it in full.
/// Remove an entry once its fix is merged (and run the long mode).
pub struct Pending {
    pub kind: Kind,
    pub size_cap: Option<usize>,
    pub why: &'static str,
}

/// Mutations pending fixes on other branches (see [`Pending`]). The caps are sizes that run in
/// well under a second in a debug build today.
pub const PENDING_ON_OTHER_BRANCHES: &[Pending] = &[];

/// Kinds whose full-size inputs pass but take seconds each in a debug build: the bounded run
/// keeps them at most this large so that it stays fast; the long run draws them in full.
pub const KEPT_SMALL_IN_BOUNDED_RUNS: &[(Kind, usize)] = &[
    (Kind::ManyMachines, 5_000),
    (Kind::DeepNesting, 5_000),
    (Kind::LongSelect, 5_000),
    (Kind::LongAttrpath, 5_000),
    (Kind::LongApplication, 5_000),
    (Kind::LongBinary, 5_000),
    (Kind::HugeList, 5_000),
    (Kind::ManyAttrs, 10_000),
    (Kind::HugeFile, 1 << 20),
];

/// How large the generated inputs are.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Depth of nesting, length of chains and lists, number of attributes (10^5 by default).
    pub scale: usize,
    /// The size limit for one file the analyzer reads: huge files are drawn around it.
    pub size_limit: usize,
}

/// What a builder draws from: the random generator, the tree as it is now, the limits.
pub struct Ctx<'a> {
    pub rng: &'a mut Rng,
    pub root: &'a Path,
    pub listing: &'a Listing,
    pub limits: &'a Limits,
    /// The largest size this kind may draw now (see [`Pending::size_cap`]).
    pub size_cap: Option<usize>,
}

impl Ctx<'_> {
    pub fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            Some(items[self.rng.usize(..items.len())].clone())
        }
    }

    pub fn pick_str(&mut self, items: &[&str]) -> Option<String> {
        self.pick(items).map(str::to_owned)
    }

    pub fn chance(&mut self, percent: u8) -> bool {
        self.rng.u8(0..100) < percent
    }

    /// A size for a generated input: the full scale half of the time, otherwise anything from
    /// 10 up to it (log-uniform), never above the kind's cap.
    pub fn big(&mut self) -> usize {
        let max = self.size_cap.unwrap_or(self.limits.scale).max(10);
        if self.rng.bool() {
            max
        } else {
            let exp = self.rng.f64() * (max as f64).log10().max(1.0);
            (10f64.powf(exp) as usize).clamp(10, max)
        }
    }

    /// The text of a regular file of the tree, decoded leniently.
    pub fn read_text(&self, rel: &str) -> Option<String> {
        if self.listing.kind(rel) != Some(EntryKind::File) {
            return None;
        }
        let bytes = std::fs::read(self.root.join(rel)).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The byte length of a regular file.
    pub fn file_len(&self, rel: &str) -> Option<usize> {
        if self.listing.kind(rel) != Some(EntryKind::File) {
            return None;
        }
        std::fs::metadata(self.root.join(rel))
            .ok()
            .map(|m| m.len() as usize)
    }

    /// Files whose text the analyzer reads: Nix sources and the data files (never a secret).
    pub fn text_targets(&self) -> Vec<String> {
        self.listing
            .files()
            .into_iter()
            .filter(|p| is_text_target(p))
            .map(str::to_owned)
            .collect()
    }

    /// A text target, Nix files three times as often as data files.
    pub fn text_target(&mut self) -> Option<String> {
        let nix: Vec<String> = self
            .listing
            .nix_files()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if !nix.is_empty() && self.rng.u8(0..4) != 0 {
            return self.pick(&nix);
        }
        let all = self.text_targets();
        self.pick(&all)
    }

    /// A Nix file that parses to UTF-8 text, with that text.
    pub fn nix_text(&mut self) -> Option<(String, String)> {
        let files: Vec<String> = self
            .listing
            .nix_files()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let file = self.pick(&files)?;
        let text = self.read_text(&file)?;
        Some((file, text))
    }

    /// A path for a new file under `modules/` (or the root when there is no `modules/`).
    pub fn new_module_path(&mut self, stem: &str) -> String {
        let dirs: Vec<String> = self
            .listing
            .dirs_under("modules")
            .into_iter()
            .map(str::to_owned)
            .collect();
        let dir = self.pick(&dirs).unwrap_or_else(|| "modules".into());
        format!("{dir}/{stem}.nix")
    }
}

pub fn is_text_target(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    !crate::tree::is_secret(rel)
        && (rel.ends_with(".nix")
            || ["flake.lock", "inventory.json", "infra-check.toml"].contains(&rel)
            || name == ".validation-hash"
            || (name.starts_with("infra-check-options-") && name.ends_with(".json")))
}

/// Whether rnix tokenizes `text` in about linear time. Its tokenizer scans a run of path
/// characters to its end for every identifier in it (`a.a0.a1…` is quadratic: 40,000
/// selections take half a minute), so the engine leaves texts with a long run alone.
pub fn cheap_to_tokenize(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"._+-/".contains(&b) {
            run += 1;
            if run > 512 {
                return false;
            }
        } else {
            run = 0;
        }
    }
    true
}

/// Whether rnix parses `text` quickly: its parser is quadratic in chains of `!`, `-` and
/// applications, so only small texts are parsed.
pub fn cheap_to_parse(text: &str) -> bool {
    text.len() <= 16 << 10 && cheap_to_tokenize(text)
}

/// The tokens of a Nix text with their byte ranges (none when that would be slow, see
/// [`cheap_to_tokenize`]).
pub fn tokens(text: &str) -> Vec<(rnix::SyntaxKind, Range<usize>)> {
    if !cheap_to_tokenize(text) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (kind, tok) in rnix::tokenize(text) {
        out.push((kind, at..at + tok.len()));
        at += tok.len();
    }
    out
}

/// The byte ranges of the values of every binding (`name = value;`) in a Nix text (none when
/// parsing it would be slow).
pub fn value_ranges(text: &str) -> Vec<Range<usize>> {
    use rowan::ast::AstNode as _;
    if !cheap_to_parse(text) {
        return Vec::new();
    }
    let root = rnix::Root::parse(text).tree();
    root.syntax()
        .descendants()
        .filter_map(rnix::ast::AttrpathValue::cast)
        .filter_map(|b| b.value())
        .map(|v| {
            let r = v.syntax().text_range();
            usize::from(r.start())..usize::from(r.end())
        })
        .collect()
}

/// Draws a kind by weight from `kinds`.
pub fn draw_kind(rng: &mut Rng, kinds: &[Kind]) -> Kind {
    let total: u32 = kinds.iter().map(|k| k.weight()).sum();
    let mut n = rng.u32(0..total);
    for &k in kinds {
        if n < k.weight() {
            return k;
        }
        n -= k.weight();
    }
    kinds[kinds.len() - 1]
}
