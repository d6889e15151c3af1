//! The partial evaluator (being written).

/// Evaluates a closed expression and returns its value as JSON, or `None` when any part of it
/// is Unknown to the partial evaluator or evaluation fails.
pub fn eval_standalone(_src: &str) -> Option<serde_json::Value> {
    None
}
