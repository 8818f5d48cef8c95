//! Loaders for storalloc's input files: the storage-system description and
//! the orchestrator/client config, in the original prototype's YAML formats
//! plus documented extensions (docs/formats.md).
//!
//! Real files from the prototype repeat keys and use YAML 1.1's `True`;
//! both load (the last value wins, repeats become warnings). Anything wrong
//! gives a [`ConfigError`] naming the file, the field's path and the value.

mod config;
mod error;
mod fields;
mod security;
mod system;
pub mod yaml;

pub use config::{load_config, parse_config, Config, LoadedConfig, Transport};
pub use error::ConfigError;
pub use security::{AuthKind, SecurityConfig, TlsConfig};
pub use system::{load_system, parse_system, LoadedSystem};
