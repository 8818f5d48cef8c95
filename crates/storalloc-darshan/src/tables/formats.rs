//! What changes between log format versions 3.00 … 3.41, as data.

use super::modules::{ModuleId, SLOTS_3_00, SLOTS_3_20, SLOTS_3_41};

/// How the name-record region serialises one `id -> name` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameEncoding {
    /// 3.00: `u64 id | u32 length | bytes` (no terminator).
    LengthPrefixed,
    /// 3.10 and later: `u64 id | bytes | NUL`.
    NulTerminated,
}

/// The layout of one log format version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FormatVersion {
    /// The version string as stored in the first 8 bytes of the file.
    pub label: &'static str,
    /// Number of module slots (`DARSHAN_MAX_MODS`) in the header.
    pub header_slots: usize,
    /// Whether the header's partial flag is 64 bits wide (32 bits before 3.41).
    pub wide_partial_flag: bool,
    /// Whether the job record carries nanosecond start/end fields (3.41).
    pub job_has_nsec: bool,
    pub names: NameEncoding,
    /// Which module each header slot holds.
    pub slots: &'static [ModuleId],
}

/// Every format version darshan-util 3.4.x (and so pydarshan 3.5.0) reads.
pub(crate) const FORMATS: &[FormatVersion] = &[
    FormatVersion {
        label: "3.00",
        header_slots: 16,
        wide_partial_flag: false,
        job_has_nsec: false,
        names: NameEncoding::LengthPrefixed,
        slots: SLOTS_3_00,
    },
    FormatVersion {
        label: "3.10",
        header_slots: 16,
        wide_partial_flag: false,
        job_has_nsec: false,
        names: NameEncoding::NulTerminated,
        slots: SLOTS_3_00,
    },
    FormatVersion {
        label: "3.20",
        header_slots: 16,
        wide_partial_flag: false,
        job_has_nsec: false,
        names: NameEncoding::NulTerminated,
        slots: SLOTS_3_20,
    },
    FormatVersion {
        label: "3.21",
        header_slots: 16,
        wide_partial_flag: false,
        job_has_nsec: false,
        names: NameEncoding::NulTerminated,
        slots: SLOTS_3_20,
    },
    FormatVersion {
        label: "3.41",
        header_slots: 64,
        wide_partial_flag: true,
        job_has_nsec: true,
        names: NameEncoding::NulTerminated,
        slots: SLOTS_3_41,
    },
];

impl FormatVersion {
    pub(crate) fn find(label: &str) -> Option<&'static FormatVersion> {
        FORMATS.iter().find(|f| f.label == label)
    }

    /// Offset of the partial flag: after the 8-byte version, 8-byte magic and
    /// 1-byte compression type, aligned to the flag's own width.
    pub(crate) fn partial_flag_offset(&self) -> usize {
        if self.wide_partial_flag {
            24
        } else {
            20
        }
    }

    /// Offset of the name-region map (the first `{off, len}` pair).
    pub(crate) fn name_map_offset(&self) -> usize {
        if self.wide_partial_flag {
            32
        } else {
            24
        }
    }

    /// Offset of the first module map, right after the name map.
    pub(crate) fn mod_map_offset(&self) -> usize {
        self.name_map_offset() + 16
    }

    /// Offset of the per-slot module record versions (`u32` each).
    pub(crate) fn mod_ver_offset(&self) -> usize {
        self.mod_map_offset() + 16 * self.header_slots
    }

    /// Size of the uncompressed header; the job region starts here.
    pub(crate) fn header_size(&self) -> usize {
        let end = self.mod_ver_offset() + 4 * self.header_slots;
        end.div_ceil(8) * 8
    }

    /// Size of the fixed part of the job record (before the exe/mount text).
    pub(crate) fn job_record_size(&self) -> usize {
        let int_fields = if self.job_has_nsec { 7 } else { 5 };
        int_fields * 8 + JOB_METADATA_LEN
    }
}

/// Length of the job record's `key=value` metadata text, NUL included.
pub(crate) const JOB_METADATA_LEN: usize = 1024;

/// darshan-util reads only this many decompressed bytes of the job region:
/// the job record followed by the exe line and the mount table.
pub(crate) const JOB_REGION_READ: usize = 4096;

/// `DARSHAN_MAGIC_NR`, used to detect the byte order.
pub(crate) const MAGIC: u64 = 6_567_223;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes_match_the_c_structs() {
        // sizeof(struct darshan_header) with 16 and 64 module slots.
        assert_eq!(FormatVersion::find("3.10").unwrap().header_size(), 360);
        assert_eq!(FormatVersion::find("3.41").unwrap().header_size(), 1328);
        // sizeof(struct darshan_job) before and after the nsec fields.
        assert_eq!(FormatVersion::find("3.21").unwrap().job_record_size(), 1064);
        assert_eq!(FormatVersion::find("3.41").unwrap().job_record_size(), 1080);
    }
}
