//! Workspace discovery.
