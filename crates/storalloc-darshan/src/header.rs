//! The uncompressed header: format version, byte order, compression and the
//! map of every region.

use crate::error::{DarshanError, Region, Result};
use crate::region::{Compression, RegionMap};
use crate::tables::formats::{FormatVersion, MAGIC};
use crate::tables::modules::ModuleId;

/// Byte order of the integers and floats in a log (the writer's native order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    /// Reads a `u64` at `at`; the caller guarantees 8 bytes are there.
    #[inline]
    pub(crate) fn u64_at(self, bytes: &[u8], at: usize) -> u64 {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&bytes[at..at + 8]);
        self.u64(raw)
    }

    #[inline]
    pub(crate) fn u64(self, raw: [u8; 8]) -> u64 {
        match self {
            ByteOrder::Little => u64::from_le_bytes(raw),
            ByteOrder::Big => u64::from_be_bytes(raw),
        }
    }

    #[inline]
    pub(crate) fn u32_at(self, bytes: &[u8], at: usize) -> u32 {
        let mut raw = [0u8; 4];
        raw.copy_from_slice(&bytes[at..at + 4]);
        match self {
            ByteOrder::Little => u32::from_le_bytes(raw),
            ByteOrder::Big => u32::from_be_bytes(raw),
        }
    }
}

/// One module region listed in the header (only slots with data are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleSlot {
    /// Header slot, in this format version's numbering.
    pub slot: usize,
    /// `None` for a slot this reader has no module name for.
    pub module: Option<ModuleId>,
    pub map: RegionMap,
    /// The module's record format version.
    pub version: u32,
    /// The runtime ran out of memory for this module and dropped records.
    pub partial: bool,
}

impl ModuleSlot {
    pub(crate) fn region(&self) -> Region {
        Region::Module {
            module: self.module,
            slot: self.slot,
        }
    }
}

/// The decoded header.
#[derive(Debug, Clone)]
pub struct Header {
    pub(crate) format: &'static FormatVersion,
    pub byte_order: ByteOrder,
    pub compression: Compression,
    /// The raw partial flag: bit `i` is set when the module in slot `i` is partial.
    pub partial_flags: u64,
    pub name_map: RegionMap,
    pub job_map: RegionMap,
    pub modules: Vec<ModuleSlot>,
}

impl Header {
    /// The format version string, e.g. `"3.21"`.
    pub fn version(&self) -> &'static str {
        self.format.label
    }

    /// Size of the header in bytes: where the job region starts.
    pub fn size(&self) -> u64 {
        self.format.header_size() as u64
    }

    pub(crate) fn parse(file: &[u8]) -> Result<Header> {
        let file_len = file.len() as u64;
        if file.len() < 8 {
            return Err(DarshanError::ShortHeader {
                file_len,
                needed: 8,
            });
        }
        let version_end = file[..8].iter().position(|&b| b == 0).unwrap_or(8);
        let label = String::from_utf8_lossy(&file[..version_end]).into_owned();
        let format =
            FormatVersion::find(&label).ok_or(DarshanError::UnsupportedVersion { found: label })?;
        let size = format.header_size();
        if file.len() < size {
            return Err(DarshanError::ShortHeader {
                file_len,
                needed: size as u64,
            });
        }

        let raw_magic: [u8; 8] = file[8..16].try_into().unwrap_or_default();
        let byte_order = if u64::from_le_bytes(raw_magic) == MAGIC {
            ByteOrder::Little
        } else if u64::from_be_bytes(raw_magic) == MAGIC {
            ByteOrder::Big
        } else {
            return Err(DarshanError::BadMagic {
                found: u64::from_le_bytes(raw_magic),
            });
        };
        let compression = Compression::from_code(file[16])
            .ok_or(DarshanError::UnknownCompression { found: file[16] })?;
        let partial_flags = if format.wide_partial_flag {
            byte_order.u64_at(file, format.partial_flag_offset())
        } else {
            u64::from(byte_order.u32_at(file, format.partial_flag_offset()))
        };
        let map_at = |at: usize| RegionMap {
            offset: byte_order.u64_at(file, at),
            len: byte_order.u64_at(file, at + 8),
        };
        let name_map = map_at(format.name_map_offset());

        let mut modules = Vec::new();
        for slot in 0..format.header_slots {
            let map = map_at(format.mod_map_offset() + 16 * slot);
            if map.len == 0 {
                continue;
            }
            modules.push(ModuleSlot {
                slot,
                module: format.slots.get(slot).copied(),
                map,
                version: byte_order.u32_at(file, format.mod_ver_offset() + 4 * slot),
                partial: partial_flags & (1u64 << slot) != 0,
            });
        }

        let job_map = job_map(format, name_map, &modules, file_len)?;
        Ok(Header {
            format,
            byte_order,
            compression,
            partial_flags,
            name_map,
            job_map,
            modules,
        })
    }
}

/// The job region has no map of its own: like darshan-util, it runs from the
/// end of the header to the name region, else to the first module region,
/// else to the end of the file.
fn job_map(
    format: &FormatVersion,
    name_map: RegionMap,
    modules: &[ModuleSlot],
    file_len: u64,
) -> Result<RegionMap> {
    let start = format.header_size() as u64;
    let end = if name_map.offset != 0 {
        name_map.offset
    } else if let Some(first) = modules.iter().find(|m| m.map.offset != 0) {
        first.map.offset
    } else {
        file_len
    };
    match end.checked_sub(start) {
        Some(len) if len > 0 => Ok(RegionMap { offset: start, len }),
        _ => Err(DarshanError::RegionOutOfBounds {
            region: Region::Job,
            offset: start,
            len: 0,
            file_len,
            data_start: start,
        }),
    }
}
