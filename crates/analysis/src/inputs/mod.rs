//! The flake's locked inputs and their sources in the Nix store. A store path is a pure
//! function of the lock, so an input Nix has fetched on this machine can be read like the
//! repository's own files, without evaluating or fetching anything.
//!
//! - `lock`: every input `flake.lock` locks, with its `narHash` and subdirectory;
//! - `store_path`: the store path Nix gives a source with that hash;
//! - `setting`: which store to look in;
//! - `locate`: whether it is there and readable;
//! - `roots`: the root flake's inputs found in the workspace's store (a query);
//! - `tree`: their files, for the evaluator, read only from inside each source;
//! - `modules`: the modules of inputs the repository imports, read from their sources;
//! - `cache`: what was read from a source, kept on disk between runs.

pub mod cache;
pub mod locate;
pub mod lock;
pub mod modules;
pub mod roots;
pub mod setting;
pub mod store_path;
pub mod tree;

pub use locate::{locate, Located, StoreState};
pub use lock::{Lock, LockedInput, LockedSource};
pub use setting::{choose_store, configured_store, StoreFrom, StoreSetting};
