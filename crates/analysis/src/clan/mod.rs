//! The clan: the built-in service catalog, the inventory as the repository writes it, and the
//! resolved model (machines, tags, instances and roles) the checks read.

pub mod catalog;
pub mod deploy_order;
mod dynamic_tags;
pub(crate) mod extract;
pub mod held;
pub mod model;
pub mod overview;
pub mod resolve;
pub mod services;
pub mod source_services;
