//! The data that describes every format and record version.

pub(crate) mod formats;
pub(crate) mod layouts;
pub mod modules;
pub(crate) mod names_hl;
pub(crate) mod names_io;
