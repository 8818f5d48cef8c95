//! Per-module, per-record-version layouts, as data.
//!
//! Each module stores fixed-size records: `u64 id | i64 rank | [u64 file_rec_id] |
//! i64 counters[] | f64 fcounters[]`. Older record versions store fewer or
//! differently ordered counters; a layout lists the stored slots by the name
//! of the current counter they feed. darshan-util fills current counters that
//! an old version lacks with -1 (or 0, see `zero_when_absent`); several stored
//! slots feeding one name are summed (PnetCDF's old independent and collective
//! opens became one `PNETCDF_FILE_OPENS`).

use super::modules::ModuleId;
use super::names_hl::*;
use super::names_io::*;

/// The stored slots of one record version, derived from the current list.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slots {
    /// Exactly the current counters.
    Current,
    /// The current counters minus `without`, with `insert` placed right after
    /// the slot named `after` (names not in the current list are read and dropped).
    Edited {
        without: &'static [&'static str],
        after: Option<&'static str>,
        insert: &'static [&'static str],
    },
    /// An explicit list of slot names.
    Explicit(&'static [&'static str]),
}

impl Slots {
    const fn without(names: &'static [&'static str]) -> Slots {
        Slots::Edited {
            without: names,
            after: None,
            insert: &[],
        }
    }

    /// The stored slot names, given the current names.
    pub(crate) fn resolve(&self, current: &'static [&'static str]) -> Vec<&'static str> {
        match *self {
            Slots::Current => current.to_vec(),
            Slots::Explicit(names) => names.to_vec(),
            Slots::Edited {
                without,
                after,
                insert,
            } => {
                let mut out = Vec::with_capacity(current.len() + insert.len());
                for name in current.iter().copied().filter(|n| !without.contains(n)) {
                    out.push(name);
                    if Some(name) == after {
                        out.extend_from_slice(insert);
                    }
                }
                out
            }
        }
    }
}

/// One stored record version of a counter module.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CounterLayout {
    pub version: u32,
    pub file_rec_id: bool,
    pub counters: Slots,
    pub fcounters: Slots,
    /// darshan-util drops records whose slot of this name is > 0 (POSIX v1
    /// mixed STDIO counters into POSIX records and cannot be up-converted).
    pub skip_if_positive: Option<&'static str>,
}

/// A counter module: its current counter names and every stored version.
#[derive(Debug)]
pub(crate) struct CounterSchema {
    pub module: ModuleId,
    pub counters: &'static [&'static str],
    pub fcounters: &'static [&'static str],
    /// Counters darshan-util sets to 0, not -1, when a version lacks them.
    pub zero_when_absent: &'static [&'static str],
    pub layouts: &'static [CounterLayout],
}

impl CounterSchema {
    pub(crate) fn layout(&self, version: u32) -> Option<&'static CounterLayout> {
        self.layouts.iter().find(|l| l.version == version)
    }

    pub(crate) fn max_version(&self) -> u32 {
        self.layouts.iter().map(|l| l.version).max().unwrap_or(0)
    }
}

const fn current(version: u32, file_rec_id: bool) -> CounterLayout {
    CounterLayout {
        version,
        file_rec_id,
        counters: Slots::Current,
        fcounters: Slots::Current,
        skip_if_positive: None,
    }
}

const POSIX_V4_ONLY: &[&str] = &[
    "POSIX_FILENOS",
    "POSIX_DUPS",
    "POSIX_RENAME_SOURCES",
    "POSIX_RENAME_TARGETS",
    "POSIX_RENAMED_FROM",
];
const POSIX_V3_ONLY_F: &[&str] = &[
    "POSIX_F_CLOSE_START_TIMESTAMP",
    "POSIX_F_OPEN_END_TIMESTAMP",
];

pub(crate) static POSIX: CounterSchema = CounterSchema {
    module: ModuleId::Posix,
    counters: POSIX_COUNTERS,
    fcounters: POSIX_F_COUNTERS,
    zero_when_absent: &["POSIX_RENAMED_FROM"],
    layouts: &[
        CounterLayout {
            version: 1,
            file_rec_id: false,
            counters: Slots::Edited {
                without: POSIX_V4_ONLY,
                after: Some("POSIX_MMAPS"),
                insert: &[
                    "POSIX_FOPENS",
                    "POSIX_FREADS",
                    "POSIX_FWRITES",
                    "POSIX_FSEEKS",
                ],
            },
            fcounters: Slots::without(POSIX_V3_ONLY_F),
            skip_if_positive: Some("POSIX_FOPENS"),
        },
        CounterLayout {
            version: 2,
            file_rec_id: false,
            counters: Slots::without(POSIX_V4_ONLY),
            fcounters: Slots::without(POSIX_V3_ONLY_F),
            skip_if_positive: None,
        },
        CounterLayout {
            version: 3,
            file_rec_id: false,
            counters: Slots::without(POSIX_V4_ONLY),
            fcounters: Slots::Current,
            skip_if_positive: None,
        },
        current(4, false),
    ],
};

const MPIIO_OLD: CounterLayout = CounterLayout {
    version: 1,
    file_rec_id: false,
    counters: Slots::Current,
    fcounters: Slots::without(&[
        "MPIIO_F_CLOSE_START_TIMESTAMP",
        "MPIIO_F_OPEN_END_TIMESTAMP",
    ]),
    skip_if_positive: None,
};

pub(crate) static MPIIO: CounterSchema = CounterSchema {
    module: ModuleId::MpiIo,
    counters: MPIIO_COUNTERS,
    fcounters: MPIIO_F_COUNTERS,
    zero_when_absent: &[],
    layouts: &[
        MPIIO_OLD,
        CounterLayout {
            version: 2,
            ..MPIIO_OLD
        },
        current(3, false),
    ],
};

pub(crate) static STDIO: CounterSchema = CounterSchema {
    module: ModuleId::Stdio,
    counters: STDIO_COUNTERS,
    fcounters: STDIO_F_COUNTERS,
    zero_when_absent: &[],
    layouts: &[
        CounterLayout {
            version: 1,
            file_rec_id: false,
            counters: Slots::without(&["STDIO_FDOPENS"]),
            fcounters: Slots::Current,
            skip_if_positive: None,
        },
        current(2, false),
    ],
};

pub(crate) static H5F: CounterSchema = CounterSchema {
    module: ModuleId::H5F,
    counters: H5F_COUNTERS,
    fcounters: H5F_F_COUNTERS,
    zero_when_absent: &[],
    layouts: &[
        CounterLayout {
            version: 1,
            file_rec_id: false,
            counters: Slots::Explicit(&["H5F_OPENS"]),
            fcounters: Slots::Explicit(&[
                "H5F_F_OPEN_START_TIMESTAMP",
                "H5F_F_CLOSE_END_TIMESTAMP",
            ]),
            skip_if_positive: None,
        },
        CounterLayout {
            version: 2,
            file_rec_id: false,
            counters: Slots::Explicit(&["H5F_OPENS"]),
            fcounters: Slots::without(&["H5F_F_META_TIME"]),
            skip_if_positive: None,
        },
        current(3, false),
    ],
};

pub(crate) static H5D: CounterSchema = CounterSchema {
    module: ModuleId::H5D,
    counters: H5D_COUNTERS,
    fcounters: H5D_F_COUNTERS,
    zero_when_absent: &[],
    layouts: &[current(1, false), current(2, true)],
};

const PNETCDF_FILE_OLD_OPENS: &[&str] = &["PNETCDF_FILE_OPENS", "PNETCDF_FILE_OPENS"];

pub(crate) static PNETCDF_FILE: CounterSchema = CounterSchema {
    module: ModuleId::PnetcdfFile,
    counters: PNETCDF_FILE_COUNTERS,
    fcounters: PNETCDF_FILE_F_COUNTERS,
    zero_when_absent: &[],
    layouts: &[
        CounterLayout {
            version: 1,
            file_rec_id: false,
            counters: Slots::Explicit(PNETCDF_FILE_OLD_OPENS),
            fcounters: Slots::Explicit(&[
                "PNETCDF_FILE_F_OPEN_START_TIMESTAMP",
                "PNETCDF_FILE_F_CLOSE_END_TIMESTAMP",
            ]),
            skip_if_positive: None,
        },
        CounterLayout {
            version: 2,
            file_rec_id: false,
            counters: Slots::Explicit(PNETCDF_FILE_OLD_OPENS),
            fcounters: Slots::Explicit(&[
                "PNETCDF_FILE_F_OPEN_START_TIMESTAMP",
                "PNETCDF_FILE_F_CLOSE_START_TIMESTAMP",
                "PNETCDF_FILE_F_OPEN_END_TIMESTAMP",
                "PNETCDF_FILE_F_CLOSE_END_TIMESTAMP",
            ]),
            skip_if_positive: None,
        },
        current(3, false),
    ],
};

pub(crate) static PNETCDF_VAR: CounterSchema = CounterSchema {
    module: ModuleId::PnetcdfVar,
    counters: PNETCDF_VAR_COUNTERS,
    fcounters: PNETCDF_VAR_F_COUNTERS,
    zero_when_absent: &[],
    layouts: &[current(1, true)],
};

/// How the Lustre module's variable-length records are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LustreLayout {
    /// v1: five file-wide counters, then `stripe_width` OST ids.
    SingleComponent,
    /// v2: component and stripe counts, the components, then the OST ids.
    Components,
}

pub(crate) const LUSTRE_LAYOUTS: &[(u32, LustreLayout)] = &[
    (1, LustreLayout::SingleComponent),
    (2, LustreLayout::Components),
];

/// The v1 Lustre record's five file-wide counters, in storage order.
pub(crate) const LUSTRE_V1_COUNTERS: &[&str] = &[
    "LUSTRE_OSTS",
    "LUSTRE_MDTS",
    "LUSTRE_STRIPE_OFFSET",
    "LUSTRE_STRIPE_SIZE",
    "LUSTRE_STRIPE_WIDTH",
];

/// How a module's records are decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RecordKind {
    Counters(&'static CounterSchema),
    Lustre,
    /// Not decoded: DXT traces, BG/Q, autoperf, heatmap, DAOS/DFS, MDHIM.
    Skipped,
}

pub(crate) fn record_kind(module: ModuleId) -> RecordKind {
    match module {
        ModuleId::Posix => RecordKind::Counters(&POSIX),
        ModuleId::MpiIo => RecordKind::Counters(&MPIIO),
        ModuleId::Stdio => RecordKind::Counters(&STDIO),
        ModuleId::H5F => RecordKind::Counters(&H5F),
        ModuleId::H5D => RecordKind::Counters(&H5D),
        ModuleId::PnetcdfFile => RecordKind::Counters(&PNETCDF_FILE),
        ModuleId::PnetcdfVar => RecordKind::Counters(&PNETCDF_VAR),
        ModuleId::Lustre => RecordKind::Lustre,
        _ => RecordKind::Skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(schema: &CounterSchema, version: u32) -> usize {
        let l = schema.layout(version).unwrap();
        16 + if l.file_rec_id { 8 } else { 0 }
            + 8 * l.counters.resolve(schema.counters).len()
            + 8 * l.fcounters.resolve(schema.fcounters).len()
    }

    #[test]
    fn old_record_sizes_match_darshan_util() {
        // The DARSHAN_*_SIZE_n constants of darshan-util's *-logutils.c.
        assert_eq!(size(&POSIX, 1), 680);
        assert_eq!(size(&POSIX, 2), 648);
        assert_eq!(size(&POSIX, 3), 664);
        assert_eq!(size(&MPIIO, 1), 544);
        assert_eq!(size(&STDIO, 1), 240);
        assert_eq!(size(&H5F, 1), 40);
        assert_eq!(size(&H5F, 2), 56);
        assert_eq!(size(&H5D, 1), 904);
        assert_eq!(size(&PNETCDF_FILE, 1), 48);
        assert_eq!(size(&PNETCDF_FILE, 2), 64);
    }

    #[test]
    fn every_stored_name_is_current_or_a_known_legacy_slot() {
        for schema in [
            &POSIX,
            &MPIIO,
            &STDIO,
            &H5F,
            &H5D,
            &PNETCDF_FILE,
            &PNETCDF_VAR,
        ] {
            for l in schema.layouts {
                for n in l.counters.resolve(schema.counters) {
                    assert!(
                        schema.counters.contains(&n) || n.starts_with("POSIX_F"),
                        "{n}"
                    );
                }
                for n in l.fcounters.resolve(schema.fcounters) {
                    assert!(schema.fcounters.contains(&n), "{n}");
                }
            }
        }
    }
}
