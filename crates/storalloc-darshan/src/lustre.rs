//! Lustre striping records, which vary in length with the stripe count.

use crate::error::{DarshanError, Region, Result};
use crate::header::ByteOrder;
use crate::tables::layouts::{LustreLayout, LUSTRE_LAYOUTS, LUSTRE_V1_COUNTERS};
use crate::tables::names_hl::LUSTRE_COMP_COUNTERS;

/// One layout component of a Lustre file.
#[derive(Debug, Clone, PartialEq)]
pub struct LustreComponent {
    /// Values of [`LustreComponent::COUNTER_NAMES`], in order.
    pub counters: [i64; 7],
    pub pool_name: String,
}

impl LustreComponent {
    /// `LUSTRE_COMP_STRIPE_SIZE`, `LUSTRE_COMP_STRIPE_COUNT`, ...
    pub const COUNTER_NAMES: &'static [&'static str] = LUSTRE_COMP_COUNTERS;

    pub fn counter(&self, name: &str) -> Option<i64> {
        let i = Self::COUNTER_NAMES.iter().position(|n| *n == name)?;
        Some(self.counters[i])
    }
}

/// The striping of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct LustreRecord {
    pub id: u64,
    pub rank: i64,
    pub components: Vec<LustreComponent>,
    pub ost_ids: Vec<i64>,
}

const COMPONENT_SIZE: usize = 7 * 8 + 16;

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    order: ByteOrder,
    region: Region,
    index: usize,
    start: usize,
}

impl<'a> Cursor<'a> {
    fn bad(&self, detail: String) -> DarshanError {
        DarshanError::BadRecord {
            region: self.region,
            index: self.index,
            offset: self.start,
            detail,
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let left = self.data.len() - self.pos;
        if n > left {
            return Err(self.bad(format!("{what} needs {n} bytes, only {left} left")));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn int(&mut self, what: &str) -> Result<i64> {
        let raw = self.take(8, what)?;
        Ok(self.order.u64_at(raw, 0) as i64)
    }

    /// A count read from the file, checked against the bytes left so an
    /// absurd value cannot trigger a huge allocation.
    fn count(&mut self, what: &str, item_size: usize) -> Result<usize> {
        let n = self.int(what)?;
        let left = (self.data.len() - self.pos) / item_size;
        match usize::try_from(n) {
            Ok(n) if n <= left => Ok(n),
            _ => Err(self.bad(format!("{what} {n} does not fit the {left} entries left"))),
        }
    }
}

pub(crate) fn parse(
    version: u32,
    order: ByteOrder,
    region: Region,
    data: &[u8],
) -> Result<Vec<LustreRecord>> {
    let Some(&(_, layout)) = LUSTRE_LAYOUTS.iter().find(|(v, _)| *v == version) else {
        return Err(DarshanError::UnsupportedModuleVersion {
            region,
            version,
            max: LUSTRE_LAYOUTS.iter().map(|(v, _)| *v).max().unwrap_or(0),
        });
    };
    let mut cur = Cursor {
        data,
        pos: 0,
        order,
        region,
        index: 0,
        start: 0,
    };
    let mut out = Vec::new();
    while cur.pos < data.len() {
        cur.start = cur.pos;
        let id = cur.int("record id")? as u64;
        let rank = cur.int("rank")?;
        let (components, ost_ids) = match layout {
            LustreLayout::SingleComponent => single_component(&mut cur)?,
            LustreLayout::Components => components(&mut cur)?,
        };
        out.push(LustreRecord {
            id,
            rank,
            components,
            ost_ids,
        });
        cur.index += 1;
    }
    Ok(out)
}

fn osts(cur: &mut Cursor<'_>, n: usize) -> Result<Vec<i64>> {
    (0..n).map(|_| cur.int("OST id")).collect()
}

/// v1 records become one component, filled the way darshan-util does.
fn single_component(cur: &mut Cursor<'_>) -> Result<(Vec<LustreComponent>, Vec<i64>)> {
    let mut legacy = [0i64; 5];
    for (slot, name) in legacy.iter_mut().zip(LUSTRE_V1_COUNTERS) {
        *slot = cur.int(name)?;
    }
    let (stripe_size, stripe_width) = (legacy[3], legacy[4]);
    let left = (cur.data.len() - cur.pos) / 8;
    let n = match usize::try_from(stripe_width) {
        Ok(n) if n <= left => n,
        _ => {
            return Err(cur.bad(format!(
                "LUSTRE_STRIPE_WIDTH {stripe_width} does not fit the {left} OST ids left"
            )))
        }
    };
    let component = LustreComponent {
        counters: [stripe_size, stripe_width, -1, -1, 0, -1, -1],
        pool_name: String::new(),
    };
    Ok((vec![component], osts(cur, n)?))
}

/// v2 records; unused trailing components (stripe size -1) are dropped and
/// only the OST ids of the used ones kept, as darshan-util does.
fn components(cur: &mut Cursor<'_>) -> Result<(Vec<LustreComponent>, Vec<i64>)> {
    let num_comps = cur.count("num_comps", COMPONENT_SIZE)?;
    let num_stripes = cur.int("num_stripes")?;
    let mut comps = Vec::with_capacity(num_comps);
    for _ in 0..num_comps {
        let mut counters = [0i64; 7];
        for c in counters.iter_mut() {
            *c = cur.int("component counter")?;
        }
        let pool = cur.take(16, "pool name")?;
        let end = pool.iter().position(|&b| b == 0).unwrap_or(pool.len());
        comps.push(LustreComponent {
            counters,
            pool_name: String::from_utf8_lossy(&pool[..end]).into_owned(),
        });
    }
    let left = (cur.data.len() - cur.pos) / 8;
    let stored = match usize::try_from(num_stripes) {
        Ok(n) if n <= left => n,
        _ => {
            return Err(cur.bad(format!(
                "num_stripes {num_stripes} does not fit the {left} OST ids left"
            )))
        }
    };
    let all_osts = osts(cur, stored)?;
    if let Some(unused) = comps.iter().position(|c| c.counters[0] == -1) {
        comps.truncate(unused);
    }
    let used = comps
        .iter()
        .fold(0i64, |acc, c| acc.saturating_add(c.counters[1].max(0)));
    let used = usize::try_from(used).unwrap_or(usize::MAX);
    if used > all_osts.len() {
        return Err(cur.bad(format!(
            "components claim {used} stripes but the record stores {stored} OST ids"
        )));
    }
    let mut ost_ids = all_osts;
    ost_ids.truncate(used);
    Ok((comps, ost_ids))
}
