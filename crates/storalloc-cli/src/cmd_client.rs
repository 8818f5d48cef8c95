//! `storalloc client`: ask the orchestrator for storage, like the original's
//! client, and wait until the storage server has created it. Also the text
//! form of allocations that `demo` shares.

use crate::orchestrator_args::{runtime, OrchestratorArgs};
use anyhow::Context;
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;
use storalloc_client::v1 as pb;
use storalloc_client::RetryPolicy;
use storalloc_core::request::{LATEST_START, MAX_DELAY, MAX_DURATION};
use storalloc_core::{Bytes, Medium, RequestError, TimeSpan, Timestamp};

#[derive(Args, Debug)]
pub struct ClientArgs {
    #[command(flatten)]
    pub at: OrchestratorArgs,
    /// Capacity; a bare number is GB (decimal), as in the original (`-s 200`).
    #[arg(
        short = 's',
        long = "size",
        value_name = "SIZE",
        allow_hyphen_values = true
    )]
    pub size: String,
    /// Duration, Slurm style: `M`, `M:S`, `H:M:S`, `D-H:M:S`, or `90m`, `2h`.
    #[arg(
        short = 't',
        long = "time",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub time: String,
    /// Earliest start, "YYYY-MM-DD HH:MM:SS" (UTC); default now.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub start_time: Option<String>,
    /// How much later than the start the allocation may begin.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub max_delay: Option<String>,
    /// Disk medium wished for: nvme, ssd, hdd or pmem.
    #[arg(long)]
    pub medium: Option<String>,
    /// Print the final allocation as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Return once granted; do not wait for the storage server.
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting for the storage after this long.
    #[arg(long, value_name = "DURATION", default_value = "5:00")]
    pub wait_timeout: String,
}

/// Exit codes: 0 granted (and allocated), 1 refused/failed/error, 2 bad input,
/// 3 granted but the storage was not confirmed in time.
const EXIT_REFUSED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_NOT_CONFIRMED: u8 = 3;

/// Checks every field before anything is sent.
pub fn build_request(a: &ClientArgs) -> Result<pb::StorageRequest, String> {
    let size: Bytes = a
        .size
        .trim()
        .parse()
        .map_err(|e| format!("-s/--size: {e}"))?;
    if size.get() == 0 {
        return Err(format!(
            "-s/--size: {:?} is zero; ask for a positive capacity (a bare number is GB)",
            a.size
        ));
    }
    let duration: TimeSpan = a
        .time
        .trim()
        .parse()
        .map_err(|e| format!("-t/--time: {e}"))?;
    if duration.secs() == 0 {
        return Err(format!(
            "-t/--time: {:?} is zero; ask for a positive duration",
            a.time
        ));
    }
    // The orchestrator's own limits (storalloc_core::request), checked here
    // so that the message names the flag rather than a protocol field.
    if duration > MAX_DURATION {
        let e = RequestError::DurationTooLong { got: duration };
        return Err(format!("-t/--time: {:?}: {e}", a.time));
    }
    let start_unix = match &a.start_time {
        None => None,
        Some(s) => {
            let t = s
                .trim()
                .parse::<Timestamp>()
                .map_err(|e| format!("--start-time: {e}"))?;
            if t < Timestamp(0) {
                return Err(format!(
                    "--start-time: {s:?} is before {} (the Unix epoch)",
                    Timestamp(0)
                ));
            }
            if t > LATEST_START {
                let e = RequestError::StartTooLate { got: t };
                return Err(format!("--start-time: {s:?}: {e}"));
            }
            Some(t.0)
        }
    };
    let max_delay_s = match &a.max_delay {
        None => None,
        Some(s) => {
            let d = s
                .trim()
                .parse::<TimeSpan>()
                .map_err(|e| format!("--max-delay: {e}"))?;
            if d > MAX_DELAY {
                let e = RequestError::DelayTooLong { got: d };
                return Err(format!("--max-delay: {s:?}: {e}"));
            }
            Some(d.secs())
        }
    };
    let medium = match &a.medium {
        None => None,
        Some(m) => Some(
            m.parse::<Medium>()
                .map_err(|e| format!("--medium: {e}"))?
                .as_str()
                .to_string(),
        ),
    };
    Ok(pb::StorageRequest {
        capacity_bytes: size.get(),
        duration_s: duration.secs(),
        start_unix,
        max_delay_s,
        medium,
        ..Default::default()
    })
}

pub fn run(a: ClientArgs) -> anyhow::Result<ExitCode> {
    let req = match build_request(&a) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("storalloc: error: {msg}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let wait_timeout: TimeSpan = match a.wait_timeout.parse() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("storalloc: error: --wait-timeout: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    runtime()?.block_on(submit_and_wait(&a, req, wait_timeout))
}

/// Prints a line unless the output is JSON.
fn say(a: &ClientArgs, line: String) {
    if !a.json {
        println!("{line}");
    }
}

/// The final allocation as JSON (with `--json`) and the exit code.
fn finish(a: &ClientArgs, alloc: &pb::Allocation, code: u8) -> ExitCode {
    if a.json {
        println!("{}", storalloc_client::json::allocation(alloc));
    }
    ExitCode::from(code)
}

async fn submit_and_wait(
    a: &ClientArgs,
    req: pb::StorageRequest,
    wait_timeout: TimeSpan,
) -> anyhow::Result<ExitCode> {
    let client = a.at.client(RetryPolicy::default()).await?;
    let request_id = storalloc_client::new_request_id();
    say(
        a,
        format!(
            "storalloc: Pending job allocation (request {request_id}: {} for {})",
            Bytes(req.capacity_bytes),
            TimeSpan(req.duration_s)
        ),
    );
    let resp = client.submit(&request_id, req).await?;
    let mut alloc = resp
        .allocation
        .context("the orchestrator answered without an allocation")?;
    if alloc.state() == pb::AllocationState::Pending {
        say(
            a,
            format!("storalloc: job allocation {} queued and waiting", alloc.id),
        );
        alloc = client
            .wait_until(alloc.id, |x| x.state() != pb::AllocationState::Pending)
            .await?;
    }
    if !matches!(
        alloc.state(),
        pb::AllocationState::Granted | pb::AllocationState::Allocated
    ) {
        say(a, format!("storalloc: Refused: {}", refusal_text(&alloc)));
        return Ok(finish(a, &alloc, EXIT_REFUSED));
    }
    say(
        a,
        format!(
            "storalloc: Granted job allocation {}",
            describe_grant(&alloc)
        ),
    );
    if a.no_wait {
        return Ok(finish(a, &alloc, 0));
    }
    // A reservation for later stays GRANTED until its start: nothing to wait for now.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if alloc.state() == pb::AllocationState::Granted && alloc.start_unix > now + 60 {
        say(
            a,
            format!(
                "storalloc: the storage is created at {}; `storalloc status` shows when it is ready",
                Timestamp(alloc.start_unix)
            ),
        );
        return Ok(finish(a, &alloc, 0));
    }
    let id = alloc.id;
    let waited = tokio::time::timeout(
        Duration::from_secs(wait_timeout.secs()),
        client.wait_until(id, |x| x.state() == pb::AllocationState::Allocated),
    )
    .await;
    let alloc = match waited {
        Ok(r) => r?,
        Err(_) => {
            say(
                a,
                format!(
                    "storalloc: job allocation {id} is granted but no storage server \
                     confirmed it within {wait_timeout}; see `storalloc status`"
                ),
            );
            let latest = client.get(id).await.unwrap_or(alloc);
            return Ok(finish(a, &latest, EXIT_NOT_CONFIRMED));
        }
    };
    if alloc.state() != pb::AllocationState::Allocated {
        let state = storalloc_client::json::allocation_state_name(alloc.state());
        say(
            a,
            format!(
                "storalloc: job allocation {id} is {}: {}",
                state.to_uppercase(),
                alloc.explanation
            ),
        );
        return Ok(finish(a, &alloc, EXIT_REFUSED));
    }
    if !a.json {
        for line in attach_lines(&alloc) {
            println!("{line}");
        }
    }
    Ok(finish(a, &alloc, 0))
}

fn refusal_text(a: &pb::Allocation) -> String {
    if a.explanation.is_empty() {
        format!(
            "job allocation {} is {}",
            a.id,
            storalloc_client::json::allocation_state_name(a.state())
        )
    } else {
        a.explanation.clone()
    }
}

/// `12: 200 GB on ault14-1 disk 0, 2026-01-01 10:00:00 → 11:00:00`.
pub fn describe_grant(a: &pb::Allocation) -> String {
    // Blocks of one request that landed on the same disk are one piece of storage.
    let mut per_disk: Vec<(u32, u32, String, u64)> = Vec::new();
    for p in &a.placements {
        match per_disk.iter_mut().find(|x| (x.0, x.1) == (p.node, p.disk)) {
            Some(x) => x.3 += p.capacity_bytes,
            None => per_disk.push((p.node, p.disk, p.hostname.clone(), p.capacity_bytes)),
        }
    }
    let places: Vec<String> = per_disk
        .into_iter()
        .map(|(node, disk, host, bytes)| {
            let host = if host.is_empty() {
                format!("node {node}")
            } else {
                host
            };
            format!("{} on {host} disk {disk}", Bytes(bytes))
        })
        .collect();
    let mut s = format!(
        "{}: {} from {} to {}",
        a.id,
        places.join(", "),
        Timestamp(a.start_unix),
        Timestamp(a.end_unix)
    );
    if a.delay_s > 0 {
        s.push_str(&format!(" (delayed by {})", TimeSpan(a.delay_s)));
    }
    s
}

/// The original's `storalloc: {'job_id': 0, 'type': 'nvme', 'nqn': ...}` line
/// and the command that attaches each block.
pub fn attach_lines(a: &pb::Allocation) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen: Vec<(u32, u32)> = Vec::new();
    for p in &a.placements {
        let Some(att) = &p.attachment else { continue };
        if seen.contains(&(p.node, p.disk)) {
            continue;
        }
        seen.push((p.node, p.disk));
        if att.r#type == "nvme" {
            out.push(format!(
                "storalloc: {{'job_id': {}, 'type': 'nvme', 'nqn': '{}', 'address': '{}', 'port': {}}}",
                a.id, att.nqn, att.address, att.port
            ));
            let cmd = if att.connect_command.is_empty() {
                format!(
                    "nvme connect -t {} -a {} -s {} -n {}",
                    if att.transport.is_empty() {
                        "tcp"
                    } else {
                        &att.transport
                    },
                    att.address,
                    att.port,
                    att.nqn
                )
            } else {
                att.connect_command.clone()
            };
            out.push(format!("  attach with: {cmd}"));
        } else {
            out.push(format!(
                "storalloc: {{'job_id': {}, 'type': '{}', 'path': '{}'}}",
                a.id, att.r#type, att.path
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(node: u32, disk: u32, gb: u64, nqn: &str) -> pb::Placement {
        pb::Placement {
            node,
            disk,
            capacity_bytes: gb * 1_000_000_000,
            hostname: format!("n{node}"),
            attachment: Some(pb::Attachment {
                r#type: "nvme".into(),
                nqn: nqn.into(),
                transport: "tcp".into(),
                address: "10.0.0.1".into(),
                port: 4420 + disk,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn blocks_on_one_disk_read_as_one_piece_of_storage() {
        let a = pb::Allocation {
            id: 3,
            placements: vec![
                placement(1, 0, 200, "nqn-a"),
                placement(1, 1, 200, "nqn-b"),
                placement(1, 0, 100, "nqn-a"),
            ],
            ..Default::default()
        };
        let g = describe_grant(&a);
        assert!(
            g.starts_with("3: 300 GB on n1 disk 0, 200 GB on n1 disk 1 from"),
            "{g}"
        );
        let lines = attach_lines(&a);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[0].contains("'job_id': 3, 'type': 'nvme', 'nqn': 'nqn-a'"));
        // Without a ready-made command the client builds the original's.
        assert_eq!(
            lines[1].trim(),
            "attach with: nvme connect -t tcp -a 10.0.0.1 -s 4420 -n nqn-a"
        );
        assert!(lines[3].ends_with("-s 4421 -n nqn-b"));
    }

    fn args(size: &str, time: &str) -> ClientArgs {
        ClientArgs {
            at: OrchestratorArgs {
                config: None,
                orchestrator: None,
                endpoints: None,
            },
            size: size.into(),
            time: time.into(),
            start_time: None,
            max_delay: None,
            medium: None,
            json: false,
            no_wait: false,
            wait_timeout: "5:00".into(),
        }
    }

    #[test]
    fn requests_are_built_in_bytes_and_seconds() {
        let mut a = args("200", "1:00:00");
        a.start_time = Some("2026-01-31 10:00:00".into());
        a.max_delay = Some("30m".into());
        a.medium = Some("NVMe".into());
        let r = build_request(&a).unwrap();
        assert_eq!(r.capacity_bytes, 200_000_000_000);
        assert_eq!(r.duration_s, 3600);
        assert_eq!(r.start_unix, Some(1_769_853_600));
        assert_eq!(r.max_delay_s, Some(1800));
        assert_eq!(r.medium.as_deref(), Some("nvme"));
        let mut bad = args("1", "1:00");
        bad.medium = Some("tape".into());
        assert!(build_request(&bad).unwrap_err().contains("--medium"));
        assert!(build_request(&args("0.0", "1:00"))
            .unwrap_err()
            .contains("zero"));
    }
}
