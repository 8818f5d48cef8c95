//! Module identities and where each format version stores them in the header.

/// A Darshan instrumentation module known to this reader.
///
/// The order is darshan 3.4.x's `DARSHAN_MODULE_IDS` order; older formats
/// store a subset of it (see [`slots_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModuleId {
    Null,
    Posix,
    MpiIo,
    H5F,
    H5D,
    PnetcdfFile,
    PnetcdfVar,
    Bgq,
    Lustre,
    Stdio,
    DxtPosix,
    DxtMpiIo,
    Mdhim,
    Apxc,
    Apmpi,
    Heatmap,
    Dfs,
    Daos,
}

impl ModuleId {
    /// Every known module, in darshan 3.4.x id order.
    pub const ALL: [ModuleId; 18] = [
        ModuleId::Null,
        ModuleId::Posix,
        ModuleId::MpiIo,
        ModuleId::H5F,
        ModuleId::H5D,
        ModuleId::PnetcdfFile,
        ModuleId::PnetcdfVar,
        ModuleId::Bgq,
        ModuleId::Lustre,
        ModuleId::Stdio,
        ModuleId::DxtPosix,
        ModuleId::DxtMpiIo,
        ModuleId::Mdhim,
        ModuleId::Apxc,
        ModuleId::Apmpi,
        ModuleId::Heatmap,
        ModuleId::Dfs,
        ModuleId::Daos,
    ];

    /// The name darshan-util and pydarshan use for the module.
    pub fn name(self) -> &'static str {
        match self {
            ModuleId::Null => "NULL",
            ModuleId::Posix => "POSIX",
            ModuleId::MpiIo => "MPI-IO",
            ModuleId::H5F => "H5F",
            ModuleId::H5D => "H5D",
            ModuleId::PnetcdfFile => "PNETCDF_FILE",
            ModuleId::PnetcdfVar => "PNETCDF_VAR",
            ModuleId::Bgq => "BG/Q",
            ModuleId::Lustre => "LUSTRE",
            ModuleId::Stdio => "STDIO",
            ModuleId::DxtPosix => "DXT_POSIX",
            ModuleId::DxtMpiIo => "DXT_MPIIO",
            ModuleId::Mdhim => "MDHIM",
            ModuleId::Apxc => "APXC",
            ModuleId::Apmpi => "APMPI",
            ModuleId::Heatmap => "HEATMAP",
            ModuleId::Dfs => "DFS",
            ModuleId::Daos => "DAOS",
        }
    }

    /// Looks a module up by its darshan name.
    pub fn from_name(name: &str) -> Option<ModuleId> {
        ModuleId::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for ModuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

use ModuleId::*;

/// Header slots of formats 3.00 and 3.10: before H5D (3.20) and PNETCDF_VAR (3.41) existed.
pub(crate) const SLOTS_3_00: &[ModuleId] = &[
    Null,
    Posix,
    MpiIo,
    H5F,
    PnetcdfFile,
    Bgq,
    Lustre,
    Stdio,
    DxtPosix,
    DxtMpiIo,
    Mdhim,
    Apxc,
    Apmpi,
    Heatmap,
    Dfs,
    Daos,
];

/// Header slots of formats 3.20 and 3.21: H5D inserted after H5F.
pub(crate) const SLOTS_3_20: &[ModuleId] = &[
    Null,
    Posix,
    MpiIo,
    H5F,
    H5D,
    PnetcdfFile,
    Bgq,
    Lustre,
    Stdio,
    DxtPosix,
    DxtMpiIo,
    Mdhim,
    Apxc,
    Apmpi,
    Heatmap,
    Dfs,
    Daos,
];

/// Header slots of format 3.41: PNETCDF_VAR inserted after PNETCDF_FILE.
pub(crate) const SLOTS_3_41: &[ModuleId] = &ModuleId::ALL;
