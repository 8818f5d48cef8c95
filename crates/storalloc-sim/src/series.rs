//! Time series of a run: where the sweep's state changes go. One sink
//! writes CSV files, one keeps a downsampled copy for the report's charts.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use storalloc_core::{Bytes, System, Timestamp};

/// Receives the state after all changes at time `t`, in time order.
pub trait SeriesSink {
    fn global(&mut self, t: Timestamp, used: u64, allocations: u32) -> io::Result<()>;
    /// `disk` is the flat disk index (node-major).
    fn disk(&mut self, t: Timestamp, disk: u32, used: u64, allocations: u32) -> io::Result<()>;
    fn node(&mut self, t: Timestamp, node: u32, allocations: u32) -> io::Result<()>;
}

/// Sends every change to two sinks.
pub struct Tee<'a>(pub &'a mut dyn SeriesSink, pub &'a mut dyn SeriesSink);

impl SeriesSink for Tee<'_> {
    fn global(&mut self, t: Timestamp, used: u64, n: u32) -> io::Result<()> {
        self.0.global(t, used, n)?;
        self.1.global(t, used, n)
    }
    fn disk(&mut self, t: Timestamp, d: u32, used: u64, n: u32) -> io::Result<()> {
        self.0.disk(t, d, used, n)?;
        self.1.disk(t, d, used, n)
    }
    fn node(&mut self, t: Timestamp, node: u32, n: u32) -> io::Result<()> {
        self.0.node(t, node, n)?;
        self.1.node(t, node, n)
    }
}

/// Ignores everything.
pub struct NullSink;

impl SeriesSink for NullSink {
    fn global(&mut self, _: Timestamp, _: u64, _: u32) -> io::Result<()> {
        Ok(())
    }
    fn disk(&mut self, _: Timestamp, _: u32, _: u64, _: u32) -> io::Result<()> {
        Ok(())
    }
    fn node(&mut self, _: Timestamp, _: u32, _: u32) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `usage.csv`, `disks.csv` and `nodes.csv`: one row per change,
/// each value holding until the next row of the same series.
pub struct CsvSink {
    usage: BufWriter<File>,
    disks: BufWriter<File>,
    nodes: BufWriter<File>,
    /// (node, disk, capacity) per flat disk index.
    disk_ids: Vec<(u32, u32, u64)>,
    total: u64,
}

fn create(dir: &Path, name: &str, header: &str) -> io::Result<BufWriter<File>> {
    let path = dir.join(name);
    let f = File::create(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let mut w = BufWriter::with_capacity(1 << 16, f);
    writeln!(w, "{header}")?;
    Ok(w)
}

impl CsvSink {
    pub fn create(dir: &Path, system: &System) -> io::Result<CsvSink> {
        let disk_ids: Vec<(u32, u32, u64)> = system
            .disks()
            .map(|(r, d)| (r.node, r.disk, d.capacity.0))
            .collect();
        Ok(CsvSink {
            usage: create(
                dir,
                "usage.csv",
                "time,epoch_s,used_gb,used_fraction,concurrent_allocations",
            )?,
            disks: create(
                dir,
                "disks.csv",
                "time,epoch_s,node,disk,used_gb,used_fraction,allocations",
            )?,
            nodes: create(dir, "nodes.csv", "time,epoch_s,node,allocations")?,
            total: disk_ids.iter().map(|d| d.2).sum(),
            disk_ids,
        })
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.usage.flush()?;
        self.disks.flush()?;
        self.nodes.flush()
    }
}

fn frac(used: u64, cap: u64) -> f64 {
    if cap == 0 {
        0.0
    } else {
        used as f64 / cap as f64
    }
}

impl SeriesSink for CsvSink {
    fn global(&mut self, t: Timestamp, used: u64, n: u32) -> io::Result<()> {
        let total = self.total;
        writeln!(
            self.usage,
            "{t},{},{},{:.6},{n}",
            t.0,
            gb(used),
            frac(used, total)
        )
    }
    fn disk(&mut self, t: Timestamp, d: u32, used: u64, n: u32) -> io::Result<()> {
        let (node, disk, cap) = self.disk_ids[d as usize];
        writeln!(
            self.disks,
            "{t},{},{node},{disk},{},{:.6},{n}",
            t.0,
            gb(used),
            frac(used, cap)
        )
    }
    fn node(&mut self, t: Timestamp, node: u32, n: u32) -> io::Result<()> {
        writeln!(self.nodes, "{t},{},{node},{n}", t.0)
    }
}

/// GB with up to 9 decimals (exact to the byte), trailing zeros removed.
pub fn gb(bytes: u64) -> String {
    gb128(bytes as u128)
}

/// [`gb`] for sums that may pass `u64`.
pub fn gb128(bytes: u128) -> String {
    let g = Bytes::GB as u128;
    let (whole, frac) = (bytes / g, bytes % g);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:09}")
            .trim_end_matches('0')
            .to_string()
    }
}

/// The global series cut into at most `buckets` equal time slices, keeping
/// the maximum seen in each slice so peaks survive in the charts.
#[derive(Debug, Clone)]
pub struct Downsampled {
    pub t0: i64,
    pub t1: i64,
    /// Per slice: (max used bytes, max concurrent allocations).
    pub slices: Vec<(u64, u32)>,
    last_slice: Option<usize>,
    carry: (u64, u32),
}

impl Downsampled {
    pub fn new(t0: Timestamp, t1: Timestamp, buckets: usize) -> Downsampled {
        let buckets = buckets.max(1);
        let span = (t1.0 - t0.0).max(0) as usize;
        let n = buckets.min(span.max(1));
        Downsampled {
            t0: t0.0,
            t1: t1.0.max(t0.0),
            slices: vec![(0, 0); n],
            last_slice: None,
            carry: (0, 0),
        }
    }

    fn slice_of(&self, t: i64) -> usize {
        let span = (self.t1 - self.t0).max(1) as i128;
        let n = self.slices.len() as i128;
        ((((t - self.t0).max(0) as i128) * n / span) as usize).min(self.slices.len() - 1)
    }

    /// Fills slices up to and including `upto` with the carried value.
    fn fill(&mut self, upto: usize) {
        let from = self.last_slice.map_or(0, |s| s + 1);
        for s in from..=upto {
            self.slices[s] = self.carry;
        }
        if self.last_slice.is_none_or(|l| l < upto) {
            self.last_slice = Some(upto);
        }
    }

    /// The state after the last change: (used bytes, allocations).
    pub fn last(&self) -> (u64, u32) {
        self.carry
    }

    /// Completes the series; call once after the sweep.
    pub fn finish(&mut self) {
        let last = self.slices.len() - 1;
        self.fill(last);
    }
}

impl SeriesSink for Downsampled {
    fn global(&mut self, t: Timestamp, used: u64, n: u32) -> io::Result<()> {
        let s = self.slice_of(t.0);
        self.fill(s);
        let slot = &mut self.slices[s];
        slot.0 = slot.0.max(used);
        slot.1 = slot.1.max(n);
        self.carry = (used, n);
        Ok(())
    }
    fn disk(&mut self, _: Timestamp, _: u32, _: u64, _: u32) -> io::Result<()> {
        Ok(())
    }
    fn node(&mut self, _: Timestamp, _: u32, _: u32) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb_is_exact_to_the_byte() {
        assert_eq!(gb(0), "0");
        assert_eq!(gb(200_000_000_000), "200");
        assert_eq!(gb(20_070_176_013), "20.070176013");
        assert_eq!(gb(1_500_000_000), "1.5");
        assert_eq!(gb128(u64::MAX as u128 * 3), "55340232221.128654845");
    }

    #[test]
    fn downsampling_keeps_short_peaks_and_carries_values_forward() {
        // 10 slices of 10 s over [0, 100).
        let mut d = Downsampled::new(Timestamp(0), Timestamp(100), 10);
        d.global(Timestamp(0), 5, 1).unwrap();
        // A 1-second peak inside slice 3.
        d.global(Timestamp(31), 50, 2).unwrap();
        d.global(Timestamp(32), 5, 1).unwrap();
        d.global(Timestamp(70), 0, 0).unwrap();
        d.finish();
        let used: Vec<u64> = d.slices.iter().map(|s| s.0).collect();
        assert_eq!(used, vec![5, 5, 5, 50, 5, 5, 5, 5, 0, 0]);
        let counts: Vec<u32> = d.slices.iter().map(|s| s.1).collect();
        assert_eq!(counts, vec![1, 1, 1, 2, 1, 1, 1, 1, 0, 0]);
    }
}
