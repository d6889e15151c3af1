//! The flake's locked inputs and their sources in the Nix store. A store path is a pure
//! function of the lock, so an input Nix has fetched on this machine can be read like the
//! repository's own files, without evaluating or fetching anything.
//!
//! - `lock`: every input `flake.lock` locks, with its `narHash` and subdirectory;
//! - `store_path`: the store path Nix gives a source with that hash;
//! - `locate`: whether it is there and readable.

pub mod locate;
pub mod lock;
pub mod store_path;

pub use locate::{locate, Located, StoreSetting, StoreState};
pub use lock::{Lock, LockedInput, LockedSource};
