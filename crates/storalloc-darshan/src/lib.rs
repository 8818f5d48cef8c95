//! Reader for Darshan I/O characterisation logs.
//!
//! Reads every log format darshan-util 3.4 reads (3.00, 3.10, 3.20, 3.21,
//! 3.41) in either byte order, zlib-, bzip2- or un-compressed. Differences
//! between format and record versions live in tables (`tables::formats`,
//! `tables::modules`, `tables::layouts`), not in code paths.
//!
//! The reader treats the file as untrusted: every length and count is checked
//! against the bytes actually present, decompressed sizes are capped, and
//! every failure names the region, record and offset.
//!
//! ```no_run
//! let log = storalloc_darshan::DarshanLog::open("job.darshan")?;
//! let posix = log.io_totals(storalloc_darshan::ModuleId::Posix);
//! println!("{} wrote {:?}", log.job.exe, posix.map(|t| t.bytes_written));
//! # Ok::<(), storalloc_darshan::DarshanError>(())
//! ```

mod error;
mod header;
mod job;
mod lustre;
mod names;
mod records;
mod region;
mod tables;

pub use error::{DarshanError, Region, Result};
pub use header::{ByteOrder, Header, ModuleSlot};
pub use job::{Job, Mount};
pub use lustre::{LustreComponent, LustreRecord};
pub use records::{CounterRecord, CounterTable};
pub use region::{Compression, RegionMap};
pub use tables::modules::ModuleId;

use std::collections::HashMap;
use std::path::Path;
use tables::layouts::{record_kind, RecordKind};

/// Limits applied while reading.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The most bytes any one region may decompress to.
    pub max_region_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_region_bytes: 1 << 30,
        }
    }
}

/// A reusable decoder: keeps its decompression buffer between logs, which
/// matters when reading thousands of logs (and for throughput: a fresh
/// multi-megabyte buffer per log costs page faults).
#[derive(Debug, Default)]
pub struct Reader {
    options: ReadOptions,
    scratch: region::Scratch,
}

impl Reader {
    /// The most scratch capacity kept between logs.
    const KEEP_SCRATCH: usize = 64 << 20;

    pub fn new(options: ReadOptions) -> Reader {
        Reader {
            options,
            scratch: region::Scratch::default(),
        }
    }

    /// Reads and decodes a log file.
    pub fn open(&mut self, path: impl AsRef<Path>) -> Result<DarshanLog> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|error| DarshanError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        self.parse(&bytes).map_err(|e| DarshanError::InFile {
            path: path.to_path_buf(),
            error: Box::new(e),
        })
    }

    /// Decodes a log held in memory.
    pub fn parse(&mut self, bytes: &[u8]) -> Result<DarshanLog> {
        let result = self.decode(bytes);
        self.scratch.shrink(Self::KEEP_SCRATCH);
        result
    }

    fn decode(&mut self, bytes: &[u8]) -> Result<DarshanLog> {
        let header = Header::parse(bytes)?;
        let order = header.byte_order;
        let file = LogFile {
            bytes,
            header: &header,
            limit: self.options.max_region_bytes,
        };
        let scratch = &mut self.scratch;

        // Check every map first so a truncated file reports the first region
        // it cuts, whichever module that is.
        for m in &header.modules {
            region::region_bytes(bytes, m.region(), m.map, header.size())?;
        }
        let job = job::Job::parse(
            header.format,
            order,
            file.load(scratch, Region::Job, header.job_map)?,
        )?;
        let names = if header.name_map.len == 0 {
            HashMap::new()
        } else {
            let raw = file.load(scratch, Region::NameRecords, header.name_map)?;
            names::parse(header.format.names, order, raw)?
        };

        let mut modules = Vec::with_capacity(header.modules.len());
        for slot in &header.modules {
            let region = slot.region();
            let data = match slot.module.map_or(RecordKind::Skipped, record_kind) {
                RecordKind::Skipped => ModuleData::Skipped,
                RecordKind::Counters(schema) => {
                    let raw = file.load(scratch, region, slot.map)?;
                    ModuleData::Counters(records::parse(schema, slot.version, order, region, raw)?)
                }
                RecordKind::Lustre => {
                    let raw = file.load(scratch, region, slot.map)?;
                    ModuleData::Lustre(lustre::parse(slot.version, order, region, raw)?)
                }
            };
            modules.push(Module { slot: *slot, data });
        }
        Ok(DarshanLog {
            header,
            job,
            names,
            modules,
        })
    }
}

/// The file being decoded, with what loading a region needs.
struct LogFile<'f> {
    bytes: &'f [u8],
    header: &'f Header,
    limit: u64,
}

impl<'f> LogFile<'f> {
    /// The decompressed bytes of one region.
    fn load<'s>(
        &self,
        scratch: &'s mut region::Scratch,
        region: Region,
        map: RegionMap,
    ) -> Result<&'s [u8]>
    where
        'f: 's,
    {
        let raw = region::region_bytes(self.bytes, region, map, self.header.size())?;
        let compression = self.header.compression;
        region::decompress(compression, raw, region, map.offset, self.limit, scratch)
    }
}

/// The decoded records of one module.
#[derive(Debug, Clone)]
pub enum ModuleData {
    Counters(CounterTable),
    Lustre(Vec<LustreRecord>),
    /// A module this reader does not decode (DXT traces, BG/Q, autoperf,
    /// heatmap, DAOS/DFS, MDHIM, or an unknown slot); its region is
    /// bounds-checked but not decompressed.
    Skipped,
}

/// One module present in the log.
#[derive(Debug, Clone)]
pub struct Module {
    pub slot: ModuleSlot,
    pub data: ModuleData,
}

/// Record count and byte totals of one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoTotals {
    pub records: usize,
    pub bytes_read: i64,
    pub bytes_written: i64,
}

/// The job-level summary `storalloc traces inspect` prints: the same fields
/// pydarshan reports for a log.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub log_version: &'static str,
    pub jobid: i64,
    pub uid: i64,
    pub nprocs: i64,
    pub start_time_sec: i64,
    pub end_time_sec: i64,
    pub exe: String,
    /// Known modules with data, sorted by name.
    pub modules: Vec<&'static str>,
    pub name_records: usize,
    pub partial: bool,
    /// Totals of the POSIX, STDIO and MPI-IO modules that are present.
    pub io: Vec<(&'static str, IoTotals)>,
}

/// The modules whose byte totals the summary reports.
pub const SUMMARY_IO_MODULES: [ModuleId; 3] = [ModuleId::Posix, ModuleId::Stdio, ModuleId::MpiIo];

/// A fully decoded Darshan log.
#[derive(Debug, Clone)]
pub struct DarshanLog {
    pub header: Header,
    pub job: Job,
    names: HashMap<u64, String>,
    pub modules: Vec<Module>,
}

impl DarshanLog {
    /// Reads and decodes a log file.
    pub fn open(path: impl AsRef<Path>) -> Result<DarshanLog> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|error| DarshanError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        DarshanLog::parse(&bytes).map_err(|e| DarshanError::InFile {
            path: path.to_path_buf(),
            error: Box::new(e),
        })
    }

    /// Decodes a log held in memory, with default limits.
    pub fn parse(bytes: &[u8]) -> Result<DarshanLog> {
        DarshanLog::parse_with(bytes, &ReadOptions::default())
    }

    /// Decodes a log held in memory.
    pub fn parse_with(bytes: &[u8], options: &ReadOptions) -> Result<DarshanLog> {
        Reader::new(options.clone()).parse(bytes)
    }

    /// The format version string, e.g. `"3.10"`.
    pub fn version(&self) -> &'static str {
        self.header.version()
    }

    /// The name (usually a path) recorded for a record id.
    pub fn name_of(&self, id: u64) -> Option<&str> {
        self.names.get(&id).map(String::as_str)
    }

    /// Number of distinct name records.
    pub fn name_record_count(&self) -> usize {
        self.names.len()
    }

    /// All `(id, name)` pairs, in no particular order.
    pub fn name_records(&self) -> impl Iterator<Item = (u64, &str)> + '_ {
        self.names.iter().map(|(id, n)| (*id, n.as_str()))
    }

    pub fn module(&self, id: ModuleId) -> Option<&Module> {
        self.modules.iter().find(|m| m.slot.module == Some(id))
    }

    /// The counter records of a module, when it is present and decoded.
    pub fn counters(&self, id: ModuleId) -> Option<&CounterTable> {
        match &self.module(id)?.data {
            ModuleData::Counters(t) => Some(t),
            _ => None,
        }
    }

    /// The Lustre striping records, when present.
    pub fn lustre(&self) -> Option<&[LustreRecord]> {
        match &self.module(ModuleId::Lustre)?.data {
            ModuleData::Lustre(r) => Some(r),
            _ => None,
        }
    }

    /// Run time in seconds, as darshan-util computes it: `end - start + 1`
    /// before format 3.41, and with nanoseconds from 3.41 on.
    pub fn run_time(&self) -> f64 {
        let j = &self.job;
        if self.header.format.job_has_nsec {
            (j.end_time_sec as f64 + j.end_time_nsec as f64 / 1e9)
                - (j.start_time_sec as f64 + j.start_time_nsec as f64 / 1e9)
        } else {
            j.end_time_sec as f64 - j.start_time_sec as f64 + 1.0
        }
    }

    /// Names of the known modules with data in the log, sorted.
    pub fn module_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self
            .modules
            .iter()
            .filter_map(|m| m.slot.module.map(ModuleId::name))
            .collect();
        names.sort_unstable();
        names
    }

    /// Whether the runtime dropped records of any module with data for lack
    /// of memory (pydarshan's per-module `partial_flag`, any of them).
    pub fn is_partial(&self) -> bool {
        self.modules.iter().any(|m| m.slot.partial)
    }

    /// Records and summed `*_BYTES_READ` / `*_BYTES_WRITTEN` of a counter
    /// module, when it is present and has those counters.
    pub fn io_totals(&self, id: ModuleId) -> Option<IoTotals> {
        let table = self.counters(id)?;
        let read = table
            .counter_names()
            .iter()
            .find(|n| n.ends_with("_BYTES_READ"))?;
        let written = table
            .counter_names()
            .iter()
            .find(|n| n.ends_with("_BYTES_WRITTEN"))?;
        Some(IoTotals {
            records: table.len(),
            bytes_read: table.sum(read)?,
            bytes_written: table.sum(written)?,
        })
    }

    /// The job-level summary (see [`Summary`]).
    pub fn summary(&self) -> Summary {
        Summary {
            log_version: self.version(),
            jobid: self.job.jobid,
            uid: self.job.uid,
            nprocs: self.job.nprocs,
            start_time_sec: self.job.start_time_sec,
            end_time_sec: self.job.end_time_sec,
            exe: self.job.exe.clone(),
            modules: self.module_names(),
            name_records: self.name_record_count(),
            partial: self.is_partial(),
            io: SUMMARY_IO_MODULES
                .iter()
                .filter_map(|&m| Some((m.name(), self.io_totals(m)?)))
                .collect(),
        }
    }
}
