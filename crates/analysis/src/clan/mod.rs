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

/// The owner of the `extraModules` of role `role` of instance `instance`: the modules clan-core
/// imports into every machine of the role, named as a user writes their place.
pub fn extra_modules_owner(instance: &str, role: &str) -> String {
    use crate::summary::attr_display;
    format!(
        "inventory.instances.{}.roles.{}.extraModules",
        attr_display(instance),
        attr_display(role)
    )
}
