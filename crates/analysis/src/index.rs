//! Workspace index.
