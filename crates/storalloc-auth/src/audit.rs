//! `<state_dir>/audit.log`: one JSON object per line saying who did what
//! to which allocation and how it ended. Appended, never rewritten.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const AUDIT_FILE: &str = "audit.log";

/// One audited call.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// None when the caller could not be authenticated.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub peer: Option<String>,
    pub action: &'a str,
    pub allocation: Option<u64>,
    /// "ok", "denied", "unauthenticated" or "error".
    pub outcome: &'a str,
    pub detail: &'a str,
}

pub struct AuditLog {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl AuditLog {
    pub fn open(state_dir: &Path) -> std::io::Result<AuditLog> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = state_dir.join(AUDIT_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)?;
        Ok(AuditLog {
            path,
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one line. A failed write is logged, not fatal: refusing
    /// service because the audit disk is full would be worse.
    pub fn record(&self, ev: &AuditEvent<'_>) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let line = serde_json::json!({
            "time_unix": now,
            "uid": ev.uid,
            "gid": ev.gid,
            "peer": ev.peer,
            "action": ev.action,
            "allocation": ev.allocation,
            "outcome": ev.outcome,
            "detail": ev.detail,
        });
        let mut f = match self.file.lock() {
            Ok(f) => f,
            Err(p) => p.into_inner(),
        };
        if let Err(e) = writeln!(f, "{line}") {
            tracing::error!(path = %self.path.display(), error = %e, "cannot write the audit log");
        }
    }
}
