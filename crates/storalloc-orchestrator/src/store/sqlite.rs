//! The SQLite state store: one database file under the state directory, in
//! WAL mode with `synchronous=FULL`, so a commit is on disk when it returns.
//! Records are stored as their protobuf encoding, which follows the API's
//! additive compatibility rules; the columns beside them exist for the
//! uniqueness constraints.

use super::{Batch, OutboxCommand, Snapshot, StateStore, StoreError, StoredNode};
use prost::Message;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use std::path::{Path, PathBuf};
use storalloc_proto::v1::{AgentCommand, Allocation, NodeDescription};

/// The file name inside the state directory.
pub const DB_FILE: &str = "state.sqlite3";
const SCHEMA_VERSION: i64 = 1;

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
";

impl SqliteStore {
    /// Opens (or creates) the store in `dir`. Only one process may hold a
    /// state directory: a second one gets [`StoreError::Locked`].
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|error| StoreError::Io {
            path: dir.display().to_string(),
            error,
        })?;
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
        conn.execute_batch("BEGIN EXCLUSIVE;").map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        let version: Option<i64> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        match version {
            None => {
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION],
                )
                .map_err(err)?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                let _ = conn.execute_batch("ROLLBACK;");
                return Err(StoreError::Corrupt {
                    path: shown,
                    what: format!(
                        "schema version {v} was written by a newer storalloc (this one knows {SCHEMA_VERSION})"
                    ),
                });
            }
            Some(_) => {}
        }
        conn.execute_batch("COMMIT;").map_err(err)?;
        Ok(SqliteStore { conn, path })
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
                    n.description.hostname,
                    n.drained,
                    n.description.encode_to_vec()
                ]);
                if let Err(e) = r {
                    if is_constraint(&e) {
                        let existing: u32 = tx
                            .query_row(
                                "SELECT id FROM nodes WHERE hostname = ?1",
                                [&n.description.hostname],
                                |r| r.get(0),
                            )
                            .map_err(err)?;
                        return Err(StoreError::DuplicateHostname {
                            hostname: n.description.hostname.clone(),
                            existing,
                        });
                    }
                    return Err(err(e));
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
                    a.state,
                    a.encode_to_vec()
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
                st.execute(params![
                    c.command.command_id as i64,
                    c.node,
                    c.command.encode_to_vec()
                ])
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
    fn load(&mut self) -> Result<Snapshot, StoreError> {
        let mut snap = Snapshot {
            next_allocation_id: self.meta("next_allocation_id")?,
            next_command_id: self.meta("next_command_id")?,
            ..Snapshot::default()
        };
        let rows: Vec<(u32, bool, Vec<u8>)> = {
            let mut st = self
                .conn
                .prepare("SELECT id, drained, description FROM nodes ORDER BY id")
                .map_err(|e| self.sql_err(e))?;
            let it = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(|e| self.sql_err(e))?;
            it.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))?
        };
        for (id, drained, body) in rows {
            let description = NodeDescription::decode(body.as_slice())
                .map_err(|e| self.corrupt(format!("node {id}: {e}")))?;
            snap.nodes.push(StoredNode {
                id,
                description,
                drained,
            });
        }
        let rows: Vec<(i64, Vec<u8>)> = {
            let mut st = self
                .conn
                .prepare("SELECT id, body FROM allocations ORDER BY id")
                .map_err(|e| self.sql_err(e))?;
            let it = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.sql_err(e))?;
            it.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))?
        };
        for (id, body) in rows {
            let a = Allocation::decode(body.as_slice())
                .map_err(|e| self.corrupt(format!("allocation {id}: {e}")))?;
            snap.allocations.push(a);
        }
        let rows: Vec<(i64, u32, Vec<u8>)> = {
            let mut st = self
                .conn
                .prepare("SELECT command_id, node, body FROM outbox ORDER BY command_id")
                .map_err(|e| self.sql_err(e))?;
            let it = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(|e| self.sql_err(e))?;
            it.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))?
        };
        for (id, node, body) in rows {
            let command = AgentCommand::decode(body.as_slice())
                .map_err(|e| self.corrupt(format!("command {id}: {e}")))?;
            snap.outbox.push(OutboxCommand { node, command });
        }
        Ok(snap)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.write(batch)
    }
}
