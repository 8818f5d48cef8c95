//! Errors that name the region, record and offset where a log went wrong.

use crate::tables::modules::ModuleId;
use std::fmt;
use std::path::PathBuf;

/// A part of a Darshan log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Header,
    Job,
    NameRecords,
    /// A module region; `slot` is the header slot it is stored in.
    Module {
        module: Option<ModuleId>,
        slot: usize,
    },
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Region::Header => f.write_str("header"),
            Region::Job => f.write_str("job region"),
            Region::NameRecords => f.write_str("name-record region"),
            Region::Module {
                module: Some(m), ..
            } => write!(f, "{m} module region"),
            Region::Module { module: None, slot } => {
                write!(f, "unknown module region (header slot {slot})")
            }
        }
    }
}

/// Everything that can go wrong reading a Darshan log.
#[derive(Debug, thiserror::Error)]
pub enum DarshanError {
    // The causes are part of the message, not `source()`s, so that error
    // chains print them once.
    #[error("cannot read {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("{path}: {error}")]
    InFile {
        path: PathBuf,
        error: Box<DarshanError>,
    },

    #[error("header: file is {file_len} bytes, too short for a Darshan header ({needed} bytes)")]
    ShortHeader { file_len: u64, needed: u64 },

    #[error("header: version string {found:?} at offset 0 is not a Darshan log format this reader knows (3.00, 3.10, 3.20, 3.21, 3.41)")]
    UnsupportedVersion { found: String },

    #[error(
        "header: magic number {found:#x} at offset 8 is not DARSHAN_MAGIC_NR in either byte order"
    )]
    BadMagic { found: u64 },

    #[error(
        "header: unknown compression type {found} at offset 16 (0 = zlib, 1 = bzip2, 2 = none)"
    )]
    UnknownCompression { found: u8 },

    #[error("{region}: map {{offset {offset}, length {len}}} lies outside the {file_len}-byte file (data starts at {data_start})")]
    RegionOutOfBounds {
        region: Region,
        offset: u64,
        len: u64,
        file_len: u64,
        data_start: u64,
    },

    #[error("{region}: corrupt {codec} data at file offset {offset}: {detail}")]
    Decompress {
        region: Region,
        codec: &'static str,
        offset: u64,
        detail: String,
    },

    #[error("{region}: {codec} stream is cut short at file offset {offset} (the region ends before the stream does)")]
    TruncatedStream {
        region: Region,
        codec: &'static str,
        offset: u64,
    },

    #[error("{region}: decompresses to more than {limit} bytes, refusing")]
    TooLarge { region: Region, limit: u64 },

    #[error("{region}: holds {got} bytes, fewer than the {needed}-byte job record")]
    ShortJob {
        region: Region,
        got: usize,
        needed: usize,
    },

    #[error("{region}: record {index} at decompressed offset {offset}: {detail}")]
    BadRecord {
        region: Region,
        index: usize,
        offset: usize,
        detail: String,
    },

    #[error("{region}: record format version {version} is not supported (this reader knows versions 1 to {max})")]
    UnsupportedModuleVersion {
        region: Region,
        version: u32,
        max: u32,
    },
}

impl DarshanError {
    /// The region the error is in, when it is about one.
    pub fn region(&self) -> Option<Region> {
        match self {
            DarshanError::Io { .. } => None,
            DarshanError::InFile { error, .. } => error.region(),
            DarshanError::ShortHeader { .. }
            | DarshanError::UnsupportedVersion { .. }
            | DarshanError::BadMagic { .. }
            | DarshanError::UnknownCompression { .. } => Some(Region::Header),
            DarshanError::RegionOutOfBounds { region, .. }
            | DarshanError::Decompress { region, .. }
            | DarshanError::TruncatedStream { region, .. }
            | DarshanError::TooLarge { region, .. }
            | DarshanError::ShortJob { region, .. }
            | DarshanError::BadRecord { region, .. }
            | DarshanError::UnsupportedModuleVersion { region, .. } => Some(*region),
        }
    }
}

pub type Result<T, E = DarshanError> = std::result::Result<T, E>;
