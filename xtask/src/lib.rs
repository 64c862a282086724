//! Project automation for Portico, run as `cargo xtask <command>`.
//!
//! The library half exists so tests can drive the same code as the command line.

pub mod codegen;
