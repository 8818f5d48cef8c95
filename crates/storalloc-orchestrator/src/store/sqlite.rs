//! The SQLite state store: one database file under the state directory, in
//! WAL mode with `synchronous=FULL`, so a commit is on disk when it returns.
//! Records are stored in the schema of `model::encoding` (protobuf); the
//! columns beside them exist for the uniqueness constraints and queries.
//! A database written by release 0.1.0 (schema 1, protobuf records) is
//! migrated in one transaction when opened.

use super::{Batch, HistoryQuery, Loaded, StateStore, StoreError};
use crate::model::encoding::{self, v1};
use crate::model::{AllocationRecord, Command, NodeRecord};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Transaction};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The file name inside the state directory.
pub const DB_FILE: &str = "state.sqlite3";
const SCHEMA_VERSION: i64 = encoding::SCHEMA;
/// Free space the state directory needs at start: the write-ahead log is
/// checkpointed every [`WAL_CHECKPOINT_PAGES`] pages (about 400 KB), and a
/// checkpoint or recovery needs about as much again.
pub const MIN_FREE_BYTES: u64 = 16 * 1024 * 1024;
const WAL_CHECKPOINT_PAGES: i64 = 100;

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id INTEGER PRIMARY KEY,
    hostname TEXT NOT NULL UNIQUE,
    drained INTEGER NOT NULL,
    description BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS allocations (
    id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    state INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    command_id INTEGER PRIMARY KEY,
    node INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    uid INTEGER NOT NULL,
    finished_unix INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS history_uid ON history(uid, id);
";

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// Free bytes for unprivileged writers on the filesystem holding `dir`.
fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

impl SqliteStore {
    /// Opens (or creates) the store in `dir`. Only one process may hold a
    /// state directory: a second one gets [`StoreError::Locked`]. The
    /// directory is made private (0700) and the database files 0600.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_err(dir))?;
        let free = free_bytes(dir).map_err(io_err(dir))?;
        if free < MIN_FREE_BYTES {
            return Err(StoreError::NoSpace {
                path: dir.display().to_string(),
                free,
                needed: MIN_FREE_BYTES,
            });
        }
        let path = dir.join(DB_FILE);
        let shown = path.display().to_string();
        let err = |error: rusqlite::Error| {
            if is_busy(&error) {
                StoreError::Locked {
                    path: dir.display().to_string(),
                }
            } else {
                StoreError::Sqlite {
                    path: shown.clone(),
                    error,
                }
            }
        };
        let conn = Connection::open(&path).map_err(err)?;
        // Fail fast when another orchestrator holds the directory, rather
        // than rusqlite's default 5 s wait.
        conn.busy_timeout(std::time::Duration::from_millis(100))
            .map_err(err)?;
        // Exclusive locking: the first write takes the lock for the life of
        // the connection, which is what keeps a second orchestrator out.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt {
                path: shown,
                what: format!("could not switch to WAL journal mode (got {mode})"),
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        // Checkpoint early and trim the log after it, so a small state
        // filesystem is not filled by the log itself.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(err)?;
        conn.pragma_update(None, "journal_size_limit", 1024 * 1024)
            .map_err(err)?;
        let mut store = SqliteStore { conn, path };
        store.prepare_schema()?;
        for f in [DB_FILE, "state.sqlite3-wal", "state.sqlite3-shm"] {
            let p = dir.join(f);
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                    .map_err(io_err(&p))?;
            }
        }
        Ok(store)
    }

    /// Creates the schema, or migrates an older one, in one transaction.
    fn prepare_schema(&mut self) -> Result<(), StoreError> {
        let path = self.path.display().to_string();
        let err = |error| StoreError::Sqlite {
            path: path.clone(),
            error,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .map_err(|e| {
                if is_busy(&e) {
                    StoreError::Locked {
                        path: self
                            .path
                            .parent()
                            .unwrap_or(&self.path)
                            .display()
                            .to_string(),
                    }
                } else {
                    err(e)
                }
            })?;
        tx.execute_batch(SCHEMA).map_err(err)?;
        let version: Option<i64> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        match version {
            None => {}
            Some(SCHEMA_VERSION) => return tx.commit().map_err(err),
            Some(1) => {
                migrate_v1(&tx, &path)?;
                tracing::info!(path = %path, "migrated the state database from schema 1 (release 0.1.0) to {SCHEMA_VERSION}");
            }
            Some(v) => {
                return Err(StoreError::Corrupt {
                    path,
                    what: format!(
                        "schema version {v} is not one this storalloc knows (it reads 1 and {SCHEMA_VERSION}); was it written by a newer release?"
                    ),
                })
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal mode in force (`wal`).
    pub fn journal_mode(&self) -> Result<String, StoreError> {
        self.conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| self.sql_err(e))
    }

    /// The `synchronous` setting in force (2 is FULL).
    pub fn synchronous(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .map_err(|e| self.sql_err(e))
    }

    /// How many allocations the history table holds.
    pub fn history_len(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM history", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.sql_err(e))
    }

    fn sql_err(&self, error: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.display().to_string(),
            error,
        }
    }

    fn corrupt(&self, what: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.display().to_string(),
            what,
        }
    }

    fn meta(&self, key: &str) -> Result<u64, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql_err(e))?;
        Ok(v.map(|v| v as u64).unwrap_or(1).max(1))
    }

    fn rows<T: rusqlite::types::FromSql, U: rusqlite::types::FromSql>(
        &self,
        sql: &str,
    ) -> Result<Vec<(T, U, Vec<u8>)>, StoreError> {
        let mut st = self.conn.prepare(sql).map_err(|e| self.sql_err(e))?;
        let it = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| self.sql_err(e))?;
        it.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))
    }

    fn write(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let path = self.path.display().to_string();
        let err = |error| StoreError::Sqlite {
            path: path.clone(),
            error,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO nodes(id, hostname, drained, description) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(id) DO UPDATE SET hostname = excluded.hostname,
                       drained = excluded.drained, description = excluded.description",
                )
                .map_err(err)?;
            for n in &batch.nodes {
                let r = st.execute(params![
                    n.id,
                    n.hostname,
                    n.drained,
                    encoding::encode_node(n)
                ]);
                if let Err(e) = r {
                    if is_constraint(&e) {
                        let existing: u32 = tx
                            .query_row(
                                "SELECT id FROM nodes WHERE hostname = ?1",
                                [&n.hostname],
                                |r| r.get(0),
                            )
                            .map_err(err)?;
                        return Err(StoreError::DuplicateHostname {
                            hostname: n.hostname.clone(),
                            existing,
                        });
                    }
                    return Err(err(e));
                }
            }
            // Archived rows leave first, so their request ids are free.
            let mut del = tx
                .prepare_cached("DELETE FROM allocations WHERE id = ?1")
                .map_err(err)?;
            let mut hist = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO history(id, uid, finished_unix, body) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for a in &batch.archived {
                del.execute([a.id as i64]).map_err(err)?;
                if batch.keep_history {
                    hist.execute(params![
                        a.id as i64,
                        a.owner.uid,
                        a.finished_unix().unwrap_or(a.submitted_unix),
                        encoding::encode_allocation(a)
                    ])
                    .map_err(err)?;
                }
            }
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO allocations(id, request_id, state, body) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(id) DO UPDATE SET request_id = excluded.request_id,
                       state = excluded.state, body = excluded.body",
                )
                .map_err(err)?;
            for a in &batch.allocations {
                let r = st.execute(params![
                    a.id as i64,
                    a.request_id,
                    a.state_name().as_str(),
                    encoding::encode_allocation(a)
                ]);
                if let Err(e) = r {
                    if is_constraint(&e) {
                        let existing: i64 = tx
                            .query_row(
                                "SELECT id FROM allocations WHERE request_id = ?1",
                                [&a.request_id],
                                |r| r.get(0),
                            )
                            .map_err(err)?;
                        return Err(StoreError::DuplicateRequestId {
                            request_id: a.request_id.clone(),
                            existing: existing as u64,
                        });
                    }
                    return Err(err(e));
                }
            }
            let mut st = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO outbox(command_id, node, body) VALUES (?1, ?2, ?3)",
                )
                .map_err(err)?;
            for c in &batch.commands_added {
                st.execute(params![c.id as i64, c.node, encoding::encode_command(c)])
                    .map_err(err)?;
            }
            let mut st = tx
                .prepare_cached("DELETE FROM outbox WHERE command_id = ?1")
                .map_err(err)?;
            for id in &batch.commands_done {
                st.execute([*id as i64]).map_err(err)?;
            }
            let mut st = tx
                .prepare_cached("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)")
                .map_err(err)?;
            if let Some(n) = batch.next_allocation_id {
                st.execute(params!["next_allocation_id", n as i64])
                    .map_err(err)?;
            }
            if let Some(n) = batch.next_command_id {
                st.execute(params!["next_command_id", n as i64])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}

/// Rewrites every schema-1 record (protobuf) in the current encoding. A
/// record that cannot be read stops the migration with an error naming it,
/// and the transaction is rolled back: nothing is changed.
fn migrate_v1(tx: &Transaction<'_>, path: &str) -> Result<(), StoreError> {
    let err = |error| StoreError::Sqlite {
        path: path.to_string(),
        error,
    };
    let corrupt = |what: String| StoreError::Corrupt {
        path: path.to_string(),
        what: format!("migrating from schema 1: {what}; nothing was changed"),
    };
    let read = |sql: &str| -> Result<Vec<(i64, i64, Vec<u8>)>, StoreError> {
        let mut st = tx.prepare(sql).map_err(err)?;
        let it = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(err)?;
        it.collect::<Result<_, _>>().map_err(err)
    };
    for (id, drained, body) in read("SELECT id, drained, description FROM nodes")? {
        let n = v1::decode_node(id as u32, drained != 0, &body)
            .map_err(|e| corrupt(format!("node {id}: {e}")))?;
        tx.execute(
            "UPDATE nodes SET description = ?1 WHERE id = ?2",
            params![encoding::encode_node(&n), id],
        )
        .map_err(err)?;
    }
    for (id, _, body) in read("SELECT id, state, body FROM allocations")? {
        let a =
            v1::decode_allocation(&body).map_err(|e| corrupt(format!("allocation {id}: {e}")))?;
        tx.execute(
            "UPDATE allocations SET state = ?1, body = ?2 WHERE id = ?3",
            params![a.state_name().as_str(), encoding::encode_allocation(&a), id],
        )
        .map_err(err)?;
    }
    for (id, node, body) in read("SELECT command_id, node, body FROM outbox")? {
        let c = v1::decode_command(node as u32, &body)
            .map_err(|e| corrupt(format!("command {id}: {e}")))?;
        tx.execute(
            "UPDATE outbox SET body = ?1 WHERE command_id = ?2",
            params![encoding::encode_command(&c), id],
        )
        .map_err(err)?;
    }
    Ok(())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation)
}

impl StateStore for SqliteStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let mut out = Loaded {
            next_allocation_id: self.meta("next_allocation_id")?,
            next_command_id: self.meta("next_command_id")?,
            ..Loaded::default()
        };
        for (id, _drained, body) in
            self.rows::<u32, bool>("SELECT id, drained, description FROM nodes ORDER BY id")?
        {
            let n: NodeRecord = encoding::decode_node(&body)
                .map_err(|e| self.corrupt(format!("node {id} (table nodes): {e}")))?;
            out.nodes.push(n);
        }
        for (id, _state, body) in
            self.rows::<i64, String>("SELECT id, state, body FROM allocations ORDER BY id")?
        {
            let a: AllocationRecord = encoding::decode_allocation(&body)
                .map_err(|e| self.corrupt(format!("allocation {id} (table allocations): {e}")))?;
            if a.id != id as u64 {
                return Err(self.corrupt(format!(
                    "allocation {id} (table allocations): its record says id {}",
                    a.id
                )));
            }
            out.allocations.push(a);
        }
        for (id, _node, body) in
            self.rows::<i64, u32>("SELECT command_id, node, body FROM outbox ORDER BY command_id")?
        {
            let c: Command = encoding::decode_command(&body)
                .map_err(|e| self.corrupt(format!("command {id} (table outbox): {e}")))?;
            out.outbox.push(c);
        }
        Ok(out)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.write(batch)
    }

    fn history(&mut self, q: &HistoryQuery) -> Result<Vec<AllocationRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, body FROM history WHERE id > ?1
                   AND (?2 IS NULL OR uid = ?2) AND (?3 IS NULL OR finished_unix >= ?3)
                 ORDER BY id LIMIT ?4",
            )
            .map_err(|e| self.sql_err(e))?;
        let rows: Vec<(i64, Vec<u8>)> = st
            .query_map(
                params![q.after_id as i64, q.uid, q.since_unix, q.limit as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.sql_err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.sql_err(e))?;
        drop(st);
        rows.into_iter()
            .map(|(id, body)| {
                encoding::decode_allocation(&body)
                    .map_err(|e| self.corrupt(format!("allocation {id} (table history): {e}")))
            })
            .collect()
    }
}
