//! The built-in clan-core service catalog (being written).
