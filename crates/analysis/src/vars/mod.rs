//! Clan vars: the generators each machine needs (from its modules and the service roles it
//! holds) and what is on disk under `vars/` and `sops/`. Secrets are never read: the disk model
//! knows which files exist, their links, and whether a `secret` file is sops-encrypted.

pub mod model;
pub mod resolve;
pub mod status;
