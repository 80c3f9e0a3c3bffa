//! The state database: one SQLite file, shared by every `hull` process.
//! WAL journaling and a busy timeout let many processes read and write at
//! once; writes that check before they change take an IMMEDIATE
//! transaction, so two creates cannot both take a name.

use crate::error::{EngineError, Result};
use crate::model::{ContainerConfig, ContainerState};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;

/// A stored container row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub created: String,
    /// Config.
    pub config: ContainerConfig,
    /// State.
    pub state: ContainerState,
}

/// The database.
pub struct Db {
    conn: Connection,
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn parse<T: for<'de> serde::Deserialize<'de>>(i: usize, s: String) -> rusqlite::Result<T> {
    serde_json::from_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into()))
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        name: r.get(1)?,
        created: r.get(2)?,
        config: parse(3, r.get(3)?)?,
        state: parse(4, r.get(4)?)?,
    })
}

/// Runs `f` again while SQLite answers busy or locked without waiting: the
/// busy timeout covers lock waits, but not every case (a connection opening
/// while the last one closes and checkpoints the WAL, a read lock that cannot
/// be upgraded), which many short-lived `hull` processes meet.
fn retrying<T>(mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match f() {
            Err(EngineError::Db(rusqlite::Error::SqliteFailure(e, _)))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Creates `path` if missing, and makes it 0600.
fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let f = std::fs::File::options().create(true).append(true).mode(0o600).open(path);
    f.and_then(|f| f.set_permissions(std::fs::Permissions::from_mode(0o600))).map_err(|e| EngineError::Io {
        op: "chmod 0600",
        path: path.display().to_string(),
        source: e,
    })
}

const COLUMNS: &str = "id, name, created, config, state";

/// The schema, one step per version: `MIGRATIONS[i]` takes the database
/// from `user_version` i to i + 1. Steps are only ever appended (exec
/// records, health and pod sandboxes will add theirs).
const MIGRATIONS: &[&str] = &[
    // 1: containers and networks (what Hull wrote before it versioned the
    // schema, hence IF NOT EXISTS).
    "CREATE TABLE IF NOT EXISTS containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL,
        config TEXT NOT NULL,
        state TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS networks (
        name TEXT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        config TEXT NOT NULL
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`SCHEMA_VERSION`], each step in its own IMMEDIATE
/// transaction (two processes opening at once migrate once). A database
/// from a newer Hull is refused rather than misread.
fn migrate(conn: &Connection) -> Result<()> {
    loop {
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(EngineError::Invalid(format!(
                "the state database is at schema version {version}, newer than this Hull's {SCHEMA_VERSION}: use a newer hull"
            )));
        }
        let Some(step) = MIGRATIONS.get(version as usize) else { return Ok(()) };
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

impl Db {
    /// Opens (creating) the database at `path`.
    pub fn open(path: &Path) -> Result<Db> {
        // 0600 before SQLite opens it: its -wal and -shm files take the
        // database's mode. An older 0644 database is tightened.
        for p in [path.to_path_buf(), path.with_extension("db-wal"), path.with_extension("db-shm")] {
            if p == path || p.exists() {
                set_private(&p)?;
            }
        }
        retrying(|| {
            let conn = Connection::open(path)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            migrate(&conn)?;
            Ok(Db { conn })
        })
    }

    /// Inserts a new container; fails if the name is taken.
    pub fn insert(&mut self, r: &Row) -> Result<()> {
        retrying(|| {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let holder: Option<String> =
                tx.query_row("SELECT id FROM containers WHERE name = ?1", [&r.name], |x| x.get(0)).optional()?;
            if let Some(id) = holder {
                return Err(EngineError::NameInUse { name: r.name.clone(), id });
            }
            tx.execute(
                "INSERT INTO containers (id, name, created, config, state) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.id, r.name, r.created, json(&r.config), json(&r.state)],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// A container by exact id.
    pub fn get(&self, id: &str) -> Result<Option<Row>> {
        retrying(|| {
            Ok(self.conn.query_row(&format!("SELECT {COLUMNS} FROM containers WHERE id = ?1"), [id], row).optional()?)
        })
    }

    /// Finds a container by full id, name, or unique id prefix.
    pub fn find(&self, key: &str) -> Result<Row> {
        retrying(|| {
            let key = key.strip_prefix('/').unwrap_or(key);
            if let Some(r) = self.get(key)? {
                return Ok(r);
            }
            let by_name = self
                .conn
                .query_row(&format!("SELECT {COLUMNS} FROM containers WHERE name = ?1"), [key], row)
                .optional()?;
            if let Some(r) = by_name {
                return Ok(r);
            }
            if !key.is_empty() && key.bytes().all(|b| b.is_ascii_hexdigit()) {
                let mut stmt =
                    self.conn.prepare(&format!("SELECT {COLUMNS} FROM containers WHERE id LIKE ?1 || '%'"))?;
                let mut rows: Vec<Row> =
                    stmt.query_map([key.to_ascii_lowercase()], row)?.collect::<rusqlite::Result<_>>()?;
                match rows.len() {
                    0 => {}
                    1 => return Ok(rows.remove(0)),
                    _ => return Err(EngineError::Ambiguous(key.to_string())),
                }
            }
            Err(EngineError::NoSuchContainer(key.to_string()))
        })
    }

    /// Every container, oldest first.
    pub fn list(&self) -> Result<Vec<Row>> {
        retrying(|| {
            let mut stmt = self.conn.prepare(&format!("SELECT {COLUMNS} FROM containers ORDER BY created, id"))?;
            let rows = stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    /// Replaces a container's state.
    pub fn set_state(&self, id: &str, state: &ContainerState) -> Result<()> {
        retrying(|| {
            self.conn.execute("UPDATE containers SET state = ?2 WHERE id = ?1", params![id, json(state)])?;
            Ok(())
        })
    }

    /// Replaces a container's config.
    pub fn set_config(&self, id: &str, config: &ContainerConfig) -> Result<()> {
        retrying(|| {
            self.conn.execute("UPDATE containers SET config = ?2 WHERE id = ?1", params![id, json(config)])?;
            Ok(())
        })
    }

    /// Renames; fails if the new name is taken.
    pub fn rename(&mut self, id: &str, name: &str) -> Result<()> {
        retrying(|| {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let holder: Option<String> =
                tx.query_row("SELECT id FROM containers WHERE name = ?1", [name], |x| x.get(0)).optional()?;
            if let Some(other) = holder {
                return Err(EngineError::NameInUse { name: name.into(), id: other });
            }
            tx.execute("UPDATE containers SET name = ?2 WHERE id = ?1", params![id, name])?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Deletes a row.
    pub fn delete(&self, id: &str) -> Result<()> {
        retrying(|| {
            self.conn.execute("DELETE FROM containers WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}

/// Networks: one row per network, its config as JSON.
impl Db {
    /// Inserts a network unless one has the name, or (when `exclusive`
    /// says so) its subnets overlap another's: checked and written in one
    /// IMMEDIATE transaction, so two creates cannot both win.
    pub fn insert_network(
        &mut self,
        n: &hull_network::network::Network,
        conflict: &dyn Fn(&[hull_network::network::Network]) -> Result<()>,
    ) -> Result<()> {
        retrying(|| {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let all = {
                let mut stmt = tx.prepare("SELECT config FROM networks")?;
                let rows: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                rows.into_iter().enumerate().map(|(i, c)| parse(i, c)).collect::<rusqlite::Result<Vec<_>>>()?
            };
            conflict(&all)?;
            tx.execute("INSERT INTO networks (name, id, config) VALUES (?1, ?2, ?3)", params![n.name, n.id, json(n)])?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Every network, by name.
    pub fn networks(&self) -> Result<Vec<hull_network::network::Network>> {
        retrying(|| {
            let mut stmt = self.conn.prepare("SELECT config FROM networks ORDER BY name")?;
            let rows: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok(rows.into_iter().enumerate().map(|(i, c)| parse(i, c)).collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Deletes a network by name.
    pub fn delete_network(&self, name: &str) -> Result<()> {
        retrying(|| {
            self.conn.execute("DELETE FROM networks WHERE name = ?1", [name])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, name: &str) -> Row {
        Row {
            id: id.into(),
            name: name.into(),
            created: "2026-01-01T00:00:00Z".into(),
            config: Default::default(),
            state: Default::default(),
        }
    }

    #[test]
    fn names_ids_prefixes() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("db")).unwrap();
        db.insert(&r("abc123", "web")).unwrap();
        db.insert(&r("abd456", "db")).unwrap();
        assert!(matches!(db.insert(&r("ffff", "web")), Err(EngineError::NameInUse { .. })));
        assert_eq!(db.find("web").unwrap().id, "abc123");
        assert_eq!(db.find("abc").unwrap().name, "web");
        assert!(matches!(db.find("ab"), Err(EngineError::Ambiguous(_))));
        assert!(matches!(db.find("zzz"), Err(EngineError::NoSuchContainer(_))));
        // A name that looks like a prefix of another id still finds by name first.
        db.rename("abd456", "abc").unwrap();
        assert_eq!(db.find("abc").unwrap().id, "abd456");
        assert!(matches!(db.rename("abc123", "abc"), Err(EngineError::NameInUse { .. })));
        db.delete("abc123").unwrap();
        assert_eq!(db.list().unwrap().len(), 1);
        // A second connection sees the same rows.
        let db2 = Db::open(&dir.path().join("db")).unwrap();
        assert_eq!(db2.find("abd").unwrap().name, "abc");
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    #[test]
    fn the_schema_is_versioned_and_a_newer_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("containers.db");
        // A database from before versioning: the tables, user_version 0.
        let old = Connection::open(&path).unwrap();
        old.execute_batch(MIGRATIONS[0]).unwrap();
        old.execute("INSERT INTO networks (name, id, config) VALUES ('n', 'i', '{}')", []).unwrap();
        drop(old);
        let db = Db::open(&path).unwrap();
        let v: i64 = db.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let kept: i64 = db.conn.query_row("SELECT count(*) FROM networks", [], |r| r.get(0)).unwrap();
        assert_eq!(kept, 1, "migration kept the rows");
        db.conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(db);
        let e = Db::open(&path).err().unwrap().to_string();
        assert!(e.contains("newer than this Hull"), "{e}");
    }
}
