//! Fixed-size counter records (POSIX, MPI-IO, STDIO, H5F, H5D, PnetCDF),
//! decoded through the version layouts of `tables::layouts`.

use crate::error::{DarshanError, Region, Result};
use crate::header::ByteOrder;
use crate::tables::layouts::{CounterLayout, CounterSchema};
use crate::tables::modules::ModuleId;

/// All records of one counter module, in the current counter layout
/// whatever version the log stored. Values are kept in flat arrays.
#[derive(Debug, Clone)]
pub struct CounterTable {
    schema: &'static CounterSchema,
    ids: Vec<u64>,
    ranks: Vec<i64>,
    file_rec_ids: Vec<u64>,
    counters: Vec<i64>,
    fcounters: Vec<f64>,
}

/// One record of a [`CounterTable`].
#[derive(Debug, Clone, Copy)]
pub struct CounterRecord<'a> {
    schema: &'static CounterSchema,
    /// The record id; look its name up in [`crate::DarshanLog::name_of`].
    pub id: u64,
    /// The rank, or -1 for a record shared by all ranks.
    pub rank: i64,
    /// For H5D / PNETCDF_VAR: the id of the file record the dataset is in (else 0).
    pub file_rec_id: u64,
    pub counters: &'a [i64],
    pub fcounters: &'a [f64],
}

impl<'a> CounterRecord<'a> {
    /// An integer counter by its darshan name, e.g. `"POSIX_BYTES_READ"`.
    pub fn counter(&self, name: &str) -> Option<i64> {
        let i = self.schema.counters.iter().position(|n| *n == name)?;
        Some(self.counters[i])
    }

    /// A floating-point counter by name, e.g. `"POSIX_F_WRITE_TIME"`.
    pub fn fcounter(&self, name: &str) -> Option<f64> {
        let i = self.schema.fcounters.iter().position(|n| *n == name)?;
        Some(self.fcounters[i])
    }
}

impl CounterTable {
    pub fn module(&self) -> ModuleId {
        self.schema.module
    }

    /// Names of the integer counters, in the order of `CounterRecord::counters`.
    pub fn counter_names(&self) -> &'static [&'static str] {
        self.schema.counters
    }

    /// Names of the float counters, in the order of `CounterRecord::fcounters`.
    pub fn fcounter_names(&self) -> &'static [&'static str] {
        self.schema.fcounters
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn record(&self, i: usize) -> Option<CounterRecord<'_>> {
        let nc = self.schema.counters.len();
        let nf = self.schema.fcounters.len();
        Some(CounterRecord {
            schema: self.schema,
            id: *self.ids.get(i)?,
            rank: self.ranks[i],
            file_rec_id: self.file_rec_ids[i],
            counters: &self.counters[i * nc..(i + 1) * nc],
            fcounters: &self.fcounters[i * nf..(i + 1) * nf],
        })
    }

    pub fn records(&self) -> impl Iterator<Item = CounterRecord<'_>> + '_ {
        (0..self.len()).filter_map(|i| self.record(i))
    }

    /// Sum of an integer counter over all records (saturating), or `None`
    /// when the module has no counter of that name.
    pub fn sum(&self, name: &str) -> Option<i64> {
        let i = self.schema.counters.iter().position(|n| *n == name)?;
        let nc = self.schema.counters.len();
        let total: i128 = self
            .counters
            .iter()
            .skip(i)
            .step_by(nc)
            .map(|&v| i128::from(v))
            .sum();
        Some(total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }
}

/// Where each stored slot of one record version goes in the current layout.
struct Plan {
    record_size: usize,
    file_rec_id: bool,
    counter_targets: Vec<Option<usize>>,
    fcounter_targets: Vec<Option<usize>>,
    counter_defaults: Vec<i64>,
    fcounter_defaults: Vec<f64>,
    skip_slot: Option<usize>,
}

impl Plan {
    fn new(schema: &'static CounterSchema, layout: &CounterLayout) -> Plan {
        let stored_c = layout.counters.resolve(schema.counters);
        let stored_f = layout.fcounters.resolve(schema.fcounters);
        let target = |current: &[&str], n: &str| current.iter().position(|c| *c == n);
        let counter_targets: Vec<Option<usize>> = stored_c
            .iter()
            .map(|n| target(schema.counters, n))
            .collect();
        let fcounter_targets: Vec<Option<usize>> = stored_f
            .iter()
            .map(|n| target(schema.fcounters, n))
            .collect();
        // A counter fed by the log starts at 0 (slots are added into it); one
        // the version lacks gets darshan-util's up-conversion default.
        let counter_defaults = (0..schema.counters.len())
            .map(|i| {
                let fed = counter_targets.contains(&Some(i));
                if fed || schema.zero_when_absent.contains(&schema.counters[i]) {
                    0
                } else {
                    -1
                }
            })
            .collect();
        let fcounter_defaults = (0..schema.fcounters.len())
            .map(|i| {
                if fcounter_targets.contains(&Some(i)) {
                    0.0
                } else {
                    -1.0
                }
            })
            .collect();
        Plan {
            record_size: 16
                + if layout.file_rec_id { 8 } else { 0 }
                + 8 * (stored_c.len() + stored_f.len()),
            file_rec_id: layout.file_rec_id,
            skip_slot: layout
                .skip_if_positive
                .and_then(|n| stored_c.iter().position(|c| *c == n)),
            counter_targets,
            fcounter_targets,
            counter_defaults,
            fcounter_defaults,
        }
    }
}

pub(crate) fn parse(
    schema: &'static CounterSchema,
    version: u32,
    order: ByteOrder,
    region: Region,
    data: &[u8],
) -> Result<CounterTable> {
    let layout = schema
        .layout(version)
        .ok_or(DarshanError::UnsupportedModuleVersion {
            region,
            version,
            max: schema.max_version(),
        })?;
    let plan = Plan::new(schema, layout);
    let whole = data.len() / plan.record_size;
    let trailing = data.len() % plan.record_size;
    if trailing != 0 {
        return Err(DarshanError::BadRecord {
            region,
            index: whole,
            offset: whole * plan.record_size,
            detail: format!(
                "{trailing} trailing bytes, fewer than one {}-byte version-{version} record",
                plan.record_size
            ),
        });
    }
    let (nc, nf) = (schema.counters.len(), schema.fcounters.len());
    let mut table = CounterTable {
        schema,
        ids: Vec::with_capacity(whole),
        ranks: Vec::with_capacity(whole),
        file_rec_ids: Vec::with_capacity(whole),
        counters: Vec::with_capacity(whole * nc),
        fcounters: Vec::with_capacity(whole * nf),
    };
    let word = |raw: &[u8]| order.u64(raw.try_into().unwrap_or_default());
    for rec in data.chunks_exact(plan.record_size) {
        let mut at = 16;
        let file_rec_id = if plan.file_rec_id {
            at += 8;
            word(&rec[16..24])
        } else {
            0
        };
        let nstored = plan.counter_targets.len();
        let stored = &rec[at..at + 8 * nstored];
        if let Some(slot) = plan.skip_slot {
            if (word(&stored[8 * slot..8 * slot + 8]) as i64) > 0 {
                continue;
            }
        }
        let base = table.counters.len();
        table.counters.extend_from_slice(&plan.counter_defaults);
        let dst = &mut table.counters[base..];
        for (raw, target) in stored.chunks_exact(8).zip(&plan.counter_targets) {
            if let Some(t) = *target {
                dst[t] = dst[t].wrapping_add(word(raw) as i64);
            }
        }
        let fbase = table.fcounters.len();
        table.fcounters.extend_from_slice(&plan.fcounter_defaults);
        let fdst = &mut table.fcounters[fbase..];
        for (raw, target) in rec[at + 8 * nstored..]
            .chunks_exact(8)
            .zip(&plan.fcounter_targets)
        {
            if let Some(t) = *target {
                fdst[t] += f64::from_bits(word(raw));
            }
        }
        table.ids.push(word(&rec[0..8]));
        table.ranks.push(word(&rec[8..16]) as i64);
        table.file_rec_ids.push(file_rec_id);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::layouts::{H5D, H5F, PNETCDF_FILE, PNETCDF_VAR, POSIX};

    const REGION: Region = Region::Module {
        module: None,
        slot: 0,
    };

    /// One stored record whose slot `i` holds `value(name)`, in big endian.
    fn record(
        schema: &'static CounterSchema,
        version: u32,
        value: impl Fn(&str) -> i64,
    ) -> Vec<u8> {
        let layout = schema.layout(version).expect("layout");
        let mut out = Vec::new();
        out.extend_from_slice(&42u64.to_be_bytes());
        out.extend_from_slice(&(-1i64).to_be_bytes());
        if layout.file_rec_id {
            out.extend_from_slice(&7u64.to_be_bytes());
        }
        for n in layout.counters.resolve(schema.counters) {
            out.extend_from_slice(&value(n).to_be_bytes());
        }
        for n in layout.fcounters.resolve(schema.fcounters) {
            out.extend_from_slice(&(value(n) as f64).to_bits().to_be_bytes());
        }
        out
    }

    #[test]
    fn old_versions_map_by_name_with_darshan_defaults() {
        let value = |n: &str| n.len() as i64;
        let t = parse(&H5F, 1, ByteOrder::Big, REGION, &record(&H5F, 1, value)).unwrap();
        let r = t.record(0).unwrap();
        assert_eq!(r.counter("H5F_OPENS"), Some(9));
        assert_eq!(r.counter("H5F_FLUSHES"), Some(-1));
        assert_eq!(r.fcounter("H5F_F_CLOSE_END_TIMESTAMP"), Some(25.0));
        assert_eq!(r.fcounter("H5F_F_CLOSE_START_TIMESTAMP"), Some(-1.0));
        assert_eq!((r.id, r.rank), (42, -1));

        // PnetCDF v2 kept independent and collective opens in two slots.
        let t = parse(
            &PNETCDF_FILE,
            2,
            ByteOrder::Big,
            REGION,
            &record(&PNETCDF_FILE, 2, |_| 5),
        )
        .unwrap();
        let r = t.record(0).unwrap();
        assert_eq!(r.counter("PNETCDF_FILE_OPENS"), Some(10));
        assert_eq!(r.counter("PNETCDF_FILE_CREATES"), Some(-1));
        assert_eq!(r.fcounter("PNETCDF_FILE_F_OPEN_END_TIMESTAMP"), Some(5.0));
        assert_eq!(r.fcounter("PNETCDF_FILE_F_WAIT_TIME"), Some(-1.0));

        for (schema, version) in [(&H5D, 2), (&PNETCDF_VAR, 1)] {
            let t = parse(
                schema,
                version,
                ByteOrder::Big,
                REGION,
                &record(schema, version, value),
            )
            .unwrap();
            assert_eq!(t.record(0).unwrap().file_rec_id, 7);
        }
        let t = parse(&H5D, 1, ByteOrder::Big, REGION, &record(&H5D, 1, value)).unwrap();
        assert_eq!(t.record(0).unwrap().file_rec_id, 0);
        assert_eq!(t.record(0).unwrap().counter("H5D_BYTES_WRITTEN"), Some(17));

        let t = parse(&POSIX, 2, ByteOrder::Big, REGION, &record(&POSIX, 2, value)).unwrap();
        let r = t.record(0).unwrap();
        assert_eq!(r.counter("POSIX_BYTES_WRITTEN"), Some(19));
        assert_eq!(r.counter("POSIX_DUPS"), Some(-1));
        assert_eq!(r.counter("POSIX_RENAMED_FROM"), Some(0));
        assert_eq!(r.fcounter("POSIX_F_OPEN_END_TIMESTAMP"), Some(-1.0));
    }

    #[test]
    fn posix_v1_records_with_stdio_counters_are_dropped() {
        let clean = record(&POSIX, 1, |n| if n == "POSIX_FOPENS" { 0 } else { 3 });
        let mixed = record(&POSIX, 1, |_| 3);
        let data = [mixed.clone(), clean, mixed].concat();
        let t = parse(&POSIX, 1, ByteOrder::Big, REGION, &data).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t.sum("POSIX_READS"), Some(3));
    }

    #[test]
    fn trailing_bytes_and_unknown_versions_are_errors() {
        let mut data = record(&POSIX, 4, |_| 1);
        data.push(0);
        let err = parse(&POSIX, 4, ByteOrder::Big, REGION, &data).unwrap_err();
        assert!(err.to_string().contains("record 1"), "{err}");
        let err = parse(&POSIX, 9, ByteOrder::Big, REGION, &[]).unwrap_err();
        assert!(err.to_string().contains("version 9"), "{err}");
    }
}
