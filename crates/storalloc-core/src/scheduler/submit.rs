//! Deciding on one request: validation, filtering, splitting, the start-time
//! search (retry shifts or earliest_start), and the explanation.

use super::Scheduler;
use crate::decision::{Allocation, Decision, Grant, Placement, Refusal, RefusalReason};
use crate::explain::{fmt_bytes, fmt_bytes_i, fmt_span, fmt_time};
use crate::placement::{fits_somewhere, next_start, place_all, BlockMiss};
use crate::request::{AllocId, Request};
use crate::state::Filter;
use crate::strategy::{earliest_start, Miss, Pick, StrategyKind};
use crate::units::{Bytes, TimeSpan, Timestamp};

/// One retry shift, as in the original.
pub const RETRY_STEP: i64 = 300;
/// With `allow_retry`, shifts are allowed while the total delay is under an
/// hour: 5, 10, ..., 55 minutes, so at most 11 shifts (12 attempts).
pub const RETRY_MAX_SHIFTS: i64 = 11;
/// A request never splits into more blocks than this.
pub const MAX_BLOCKS: u64 = 100_000;

/// A refusal in the making.
struct Refuse {
    reason: RefusalReason,
    retries: u32,
    explanation: String,
}

fn refuse(reason: RefusalReason, explanation: String) -> Refuse {
    Refuse {
        reason,
        retries: 0,
        explanation,
    }
}

impl Scheduler {
    /// Decisions depend on the request's window, not on when it is asked.
    pub(super) fn submit_impl(&mut self, id: AllocId, req: &Request) -> Decision {
        match self.decide(id, req) {
            Ok(g) => Decision::Granted(g),
            Err(r) => Decision::Refused(Refusal {
                reason: r.reason,
                retries: r.retries,
                explanation: r.explanation,
            }),
        }
    }

    fn decide(&mut self, id: AllocId, req: &Request) -> Result<Grant, Refuse> {
        if let Err(e) = req.validate() {
            return Err(refuse(
                RefusalReason::Invalid(e.to_string()),
                format!("invalid request: {e}"),
            ));
        }
        if self.live.contains_key(&id) || self.ghosts.contains_key(&id) {
            return Err(refuse(
                RefusalReason::DuplicateId,
                format!("allocation id {id} is already in use"),
            ));
        }
        let start = req.earliest_start.0;
        let dur = i64::try_from(req.duration.0).unwrap_or(i64::MAX);
        if start.checked_add(dur).is_none() {
            let msg = "the requested window ends past the largest representable time".to_string();
            return Err(refuse(
                RefusalReason::Invalid(msg.clone()),
                format!("invalid request: {msg}"),
            ));
        }
        let f = self.st.filter(req);
        let n_disks = self.st.disks.len();
        if f.count(n_disks) == 0 {
            return Err(refuse(
                RefusalReason::NoMatchingDisk,
                self.no_match_text(req),
            ));
        }
        let sizes = self.split(req)?;
        let largest_cap = match &f {
            Filter::All => self.max_cap_all(),
            Filter::Some { list, .. } => list
                .iter()
                .map(|&d| self.st.disks[d as usize].cap)
                .max()
                .unwrap_or(0),
        };
        let biggest = sizes.iter().copied().max().unwrap_or(0);
        if biggest > largest_cap as u64 {
            return Err(refuse(
                RefusalReason::NoCapacity,
                format!(
                    "{} does not fit on any matching disk: the largest holds {}",
                    if sizes.len() == 1 {
                        fmt_bytes(req.capacity)
                    } else {
                        format!("a block of {}", fmt_bytes(Bytes(biggest)))
                    },
                    fmt_bytes_i(largest_cap)
                ),
            ));
        }
        let sizes: Vec<i64> = sizes.into_iter().map(|s| s as i64).collect();
        let kind = self.config.strategy;
        let (t, picks, retries) = if kind == StrategyKind::EarliestStart {
            let latest = match req.max_delay {
                Some(d) => start.saturating_add(i64::try_from(d.0).unwrap_or(i64::MAX)),
                None => i64::MAX,
            }
            .min(i64::MAX - dur);
            match earliest_start::place(&mut self.st, &f, &sizes, start, dur, latest, id) {
                Ok((t, picks)) => (t, picks, 0),
                Err(miss) => {
                    let until = if req.max_delay.is_some() {
                        format!("nor at any start up to {} later", fmt_span(latest - start))
                    } else {
                        "nor at any later start".to_string()
                    };
                    return Err(self.no_room(&sizes, start, dur, miss, 0, Some(until)));
                }
            }
        } else {
            self.shifting(id, req, &f, &sizes, start, dur)?
        };
        let end = t + dur;
        let placements: Vec<Placement> = picks
            .iter()
            .zip(&sizes)
            .map(|(p, &s)| Placement {
                disk: self.st.disks[p.disk].r,
                capacity: Bytes(s as u64),
            })
            .collect();
        let alloc = Allocation {
            id,
            start: Timestamp(t),
            end: Timestamp(end),
            placements,
        };
        let explanation = self.grant_text(req, &alloc, &picks, t - start, retries);
        self.ends.insert((end, id));
        self.live.insert(id, alloc.clone());
        Ok(Grant {
            allocation: alloc,
            delay: TimeSpan((t - start) as u64),
            retries,
            explanation,
        })
    }

    /// Try the requested start, then later starts in 5-minute steps as far
    /// as `max_delay` (or, with `allow_retry` and an unsplit request, 55
    /// minutes). Steps at which the failing block cannot fit any matching
    /// disk at all are skipped without asking the strategy; they count as
    /// retries all the same.
    fn shifting(
        &mut self,
        id: AllocId,
        req: &Request,
        f: &Filter,
        sizes: &[i64],
        start: i64,
        dur: i64,
    ) -> Result<(i64, Vec<Pick>, u32), Refuse> {
        let max_shifts: i64 = match req.max_delay {
            Some(d) => (d.0 / RETRY_STEP as u64).min(i64::MAX as u64) as i64,
            None if self.config.allow_retry && sizes.len() == 1 => RETRY_MAX_SHIFTS,
            None => 0,
        };
        // The last shift whose window is still representable.
        let room = (i64::MAX as i128 - dur as i128 - start as i128) / RETRY_STEP as i128;
        let max_shifts = (max_shifts as i128).min(room).max(0) as i64;
        let kind = self.config.strategy;
        let mut k: i64 = 0;
        let mut first_miss: Option<BlockMiss> = None;
        loop {
            let t = start + k * RETRY_STEP;
            let miss = match place_all(kind, &mut self.st, f, sizes, t, t + dur, id) {
                Ok(picks) => return Ok((t, picks, k as u32)),
                Err(miss) => miss,
            };
            if k >= max_shifts {
                first_miss.get_or_insert(miss);
                break;
            }
            let latest = start + max_shifts * RETRY_STEP;
            // round_robin may give up while some disk had room: the next
            // step may do better. Otherwise skip the steps at which nothing
            // can have changed.
            let budget_only = matches!(miss.miss, Miss::Exhausted(_))
                && fits_somewhere(&self.st, f, miss.size, t, dur);
            let next = if budget_only {
                Some(t + RETRY_STEP)
            } else {
                next_start(&self.st, f, sizes.len(), &miss, t, dur, latest)
            };
            first_miss.get_or_insert(miss);
            match next {
                Some(next) => {
                    let steps = (next - start + RETRY_STEP - 1) / RETRY_STEP;
                    k = steps.max(k + 1);
                }
                None => break,
            }
        }
        let retries = max_shifts.min(u32::MAX as i64) as u32;
        let miss = first_miss.expect("at least one attempt was made");
        let later = (max_shifts > 0).then(|| {
            format!(
                "nor at any start up to {} later in 5-minute steps",
                fmt_span(max_shifts * RETRY_STEP)
            )
        });
        Err(self.no_room(sizes, start, dur, miss, retries, later))
    }

    fn split(&self, req: &Request) -> Result<Vec<u64>, Refuse> {
        let c = req.capacity.0;
        let b = req
            .block_size
            .or(self.config.block_size)
            .map(|b| b.0)
            .filter(|&b| b > 0);
        let Some(b) = b else {
            return Ok(vec![c]);
        };
        if c <= b {
            return Ok(vec![c]);
        }
        let (whole, rest) = (c / b, c % b);
        let count = whole + u64::from(rest > 0);
        if count > MAX_BLOCKS {
            let msg = format!(
                "{} in blocks of {} makes {count} blocks; the limit is {MAX_BLOCKS}",
                fmt_bytes(req.capacity),
                fmt_bytes(Bytes(b))
            );
            return Err(refuse(
                RefusalReason::Invalid(msg.clone()),
                format!("invalid request: {msg}"),
            ));
        }
        let mut sizes = vec![b; whole as usize];
        if rest > 0 {
            sizes.push(rest);
        }
        Ok(sizes)
    }

    pub(super) fn max_cap_all(&self) -> i64 {
        self.st.max_cap
    }

    fn no_match_text(&self, req: &Request) -> String {
        let mut wishes = Vec::new();
        if let Some(m) = req.medium {
            wishes.push(format!("medium {m}"));
        }
        if let Some(t) = &req.tier {
            wishes.push(format!("tier {t:?}"));
        }
        if let Some(bw) = req.bandwidth {
            wishes.push(format!("write bandwidth ≥ {} GB/s", bw.0));
        }
        let down = self.st.unavailable_nodes;
        let mut text = if self.st.disks.is_empty() {
            "the system has no disks".to_string()
        } else if wishes.is_empty() {
            "no disk is available".to_string()
        } else {
            format!("no available disk matches {}", wishes.join(", "))
        };
        let mut down_parts = Vec::new();
        if down > 0 {
            down_parts.push(format!("{down} of {} nodes", self.st.available.len()));
        }
        if self.st.unavailable_disks > 0 {
            down_parts.push(format!(
                "{} of {} disks",
                self.st.unavailable_disks,
                self.st.disks.len()
            ));
        }
        if !down_parts.is_empty() && !self.st.disks.is_empty() {
            text.push_str(&format!(" ({} are unavailable)", down_parts.join(" and ")));
        }
        text
    }

    fn no_room(
        &self,
        sizes: &[i64],
        start: i64,
        dur: i64,
        miss: BlockMiss,
        retries: u32,
        later: Option<String>,
    ) -> Refuse {
        let end = start.saturating_add(dur);
        let what = if sizes.len() == 1 {
            String::new()
        } else {
            format!(
                "block {} of {} ({}) could not be placed: ",
                miss.index + 1,
                sizes.len(),
                fmt_bytes_i(miss.size)
            )
        };
        let window = format!("between {} and {}", fmt_time(start), fmt_time(end));
        let later = later.map(|l| format!(", {l}")).unwrap_or_default();
        let (reason, core) = match &miss.miss {
            Miss::Exhausted(tried) => {
                let names: Vec<String> = tried
                    .iter()
                    .map(|&d| self.st.disks[d].r.to_string())
                    .collect();
                (
                    RefusalReason::CandidatesExhausted,
                    format!(
                        "round_robin tried {} disk{} in turn ({}) and none had {} free {window}{later}",
                        tried.len(),
                        if tried.len() == 1 { "" } else { "s" },
                        names.join(", "),
                        fmt_bytes_i(miss.size)
                    ),
                )
            }
            Miss::NoRoom => {
                let largest = match miss.largest {
                    Some((d, free)) => format!(
                        "; the largest is {} on {}",
                        fmt_bytes_i(free),
                        self.st.disks[d].r
                    ),
                    None => String::new(),
                };
                let placed = match miss.index {
                    0 => String::new(),
                    1 => " with block 1 in place".to_string(),
                    n => format!(" with blocks 1-{n} in place"),
                };
                (
                    RefusalReason::NoCapacity,
                    format!(
                        "no disk has {} free {window}{placed}{later}{largest}",
                        fmt_bytes_i(miss.size)
                    ),
                )
            }
        };
        Refuse {
            reason,
            retries,
            explanation: format!("{what}{core}"),
        }
    }

    fn grant_text(
        &self,
        req: &Request,
        alloc: &Allocation,
        picks: &[Pick],
        delay: i64,
        retries: u32,
    ) -> String {
        const LISTED: usize = 8;
        let mut text = format!("placed {}", fmt_bytes(req.capacity));
        if picks.len() == 1 {
            text.push_str(&format!(
                " on {} ({})",
                alloc.placements[0].disk, picks[0].why
            ));
        } else {
            text.push_str(&format!(" as {} blocks: ", picks.len()));
            let parts: Vec<String> = alloc
                .placements
                .iter()
                .zip(picks)
                .take(LISTED)
                .map(|(p, k)| format!("{} on {} ({})", fmt_bytes(p.capacity), p.disk, k.why))
                .collect();
            text.push_str(&parts.join(", "));
            if picks.len() > LISTED {
                text.push_str(&format!(" and {} more", picks.len() - LISTED));
            }
        }
        text.push_str(&format!(
            " from {} to {}",
            fmt_time(alloc.start.0),
            fmt_time(alloc.end.0)
        ));
        if delay > 0 {
            if retries > 0 {
                text.push_str(&format!(
                    ", {} later than asked after {retries} retr{}",
                    fmt_span(delay),
                    if retries == 1 { "y" } else { "ies" }
                ));
            } else {
                text.push_str(&format!(
                    ", {} later than asked (the earliest start with room)",
                    fmt_span(delay)
                ));
            }
        }
        text
    }
}
