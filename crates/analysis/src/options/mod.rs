//! Option types and their checking. Service settings (and, later, module options) are checked
//! against these; a type the analyzer does not know is `Unknown` and accepts anything.

pub mod catalog;
pub mod model;
pub mod platform;
pub mod read;
pub mod types;
