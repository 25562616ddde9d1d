//! What must be atomic across instances, in a database: each user's profile pointer
//! (current version, renditions, ZITADEL sequence, dates, removed flag) and every
//! version's life (`publishing` → `current` → `retired` → `sweeping` → gone). The
//! renditions themselves stay in the object store ([`super::store`]).
//!
//! One SQL text serves both engines through sqlx's `Any` driver: SQLite (the embedded
//! default for one machine; several processes on that machine share its file) and
//! PostgreSQL (several machines). Correctness rests on the database alone, never on
//! the object store's conditional writes (Garage ignores them):
//! - a change to a user is one transaction whose first statement is a write to the
//!   user's row (an upsert that changes nothing), so it holds the row lock (PostgreSQL)
//!   or the write lock (SQLite) before it reads; changes to one user are serial, and
//!   the sequence rises by one per change, whichever instance makes it;
//! - a version is registered (`publishing`) before its first object is written, and
//!   becomes `current` only if it is still `publishing` in the transaction that points
//!   the profile at it; the sweep claims a version (`sweeping`) in one conditional
//!   update before deleting its objects, so the two never both succeed;
//! - the sweep takes only versions that are not `current` and whose state is older
//!   than the grace period (longer than any upload takes to publish).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use super::profile::Fields;
use super::SetupError;

/// One stored rendition, as the profile lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Stored {
    pub size: u32,
    pub ext: String,
}

/// A user's pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Profile {
    /// Content key of the current avatar, if one is set.
    pub version: Option<String>,
    pub renditions: Vec<Stored>,
    pub original_ext: Option<String>,
    /// Increases on every change (ZITADEL's object sequence).
    pub sequence: u64,
    /// Seconds since the epoch of the first change and of the last.
    pub created: u64,
    pub changed: u64,
    /// Set by `admin.users.remove`.
    pub removed: bool,
    /// Names, title, status and the rest `users.profile.set` sets.
    pub fields: Fields,
}

impl Profile {
    /// Counts one change made at `when` (seconds since the epoch): the sequence rises
    /// by one, the change date never goes back, and the first change is the creation.
    pub fn record_change(&mut self, when: u64) {
        self.sequence += 1;
        self.changed = self.changed.max(when);
        if self.created == 0 {
            self.created = self.changed;
        }
    }
}

/// The tables, created if missing (by whichever instance starts first).
const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS avatar_profiles (
        user_id TEXT PRIMARY KEY,
        version TEXT,
        renditions TEXT NOT NULL,
        original_ext TEXT,
        sequence BIGINT NOT NULL,
        created BIGINT NOT NULL,
        changed BIGINT NOT NULL,
        removed BIGINT NOT NULL,
        fields TEXT NOT NULL DEFAULT '{}'
    )",
    // Who holds each email, per team, lower-cased: the primary key is what keeps two
    // users of a team from setting one address at once.
    "CREATE TABLE IF NOT EXISTS avatar_emails (
        team TEXT NOT NULL,
        email TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (team, email)
    )",
    "CREATE TABLE IF NOT EXISTS avatar_versions (
        user_id TEXT NOT NULL,
        version TEXT NOT NULL,
        state TEXT NOT NULL,
        since BIGINT NOT NULL,
        PRIMARY KEY (user_id, version)
    )",
    "CREATE INDEX IF NOT EXISTS avatar_versions_by_state ON avatar_versions (state, since)",
];

/// Takes the user's row lock, creating the row (sequence 0) if it is missing.
const LOCK_ROW: &str = "INSERT INTO avatar_profiles
        (user_id, version, renditions, original_ext, sequence, created, changed, removed)
    VALUES ($1, NULL, '[]', NULL, 0, 0, 0, 0)
    ON CONFLICT (user_id) DO UPDATE SET sequence = avatar_profiles.sequence";

const SELECT_PROFILE: &str = "SELECT version, renditions, original_ext, sequence, created,
    changed, removed, fields FROM avatar_profiles WHERE user_id = $1";

/// 0.3.0 made `avatar_profiles` without `fields`: added once, by the first instance
/// of a later version to start (the column's default reads as no fields set).
const ADD_FIELDS: &str = "ALTER TABLE avatar_profiles ADD COLUMN fields TEXT NOT NULL DEFAULT '{}'";

/// The state database: profile pointers, ZITADEL sequences and which versions the
/// sweep may delete, shared by every instance that opens the same URL
/// ([`StateDb::open`]).
#[derive(Clone)]
pub struct StateDb {
    pool: AnyPool,
    /// A database other machines can reach (PostgreSQL), as opposed to SQLite.
    shared: bool,
}

/// A failed database call (the server answers `internal_error`).
#[derive(Debug)]
pub(crate) struct StateError(pub String);

impl From<sqlx::Error> for StateError {
    fn from(e: sqlx::Error) -> Self {
        StateError(e.to_string())
    }
}

/// Why a change was not made.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The database failed.
    Db(StateError),
    /// The change's own rule said no (a wire code).
    Code(&'static str),
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        Refused::Db(e.into())
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn profile_of(row: &AnyRow) -> Result<Profile, sqlx::Error> {
    let renditions: String = row.try_get("renditions")?;
    let fields: String = row.try_get("fields")?;
    Ok(Profile {
        version: row.try_get("version")?,
        renditions: serde_json::from_str(&renditions).unwrap_or_default(),
        original_ext: row.try_get("original_ext")?,
        sequence: row.try_get::<i64, _>("sequence")?.max(0) as u64,
        created: row.try_get::<i64, _>("created")?.max(0) as u64,
        changed: row.try_get::<i64, _>("changed")?.max(0) as u64,
        removed: row.try_get::<i64, _>("removed")? != 0,
        // Written only by this code from a `Fields`: unreadable means damaged by hand.
        fields: serde_json::from_str(&fields).unwrap_or_default(),
    })
}

/// Moves a version from state `from` to `to` (its state's time becoming `now`) inside
/// `tx`; whether it was in `from`.
async fn move_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &str,
    version: &str,
    from: &str,
    to: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE avatar_versions SET state = $4, since = $5
         WHERE user_id = $1 AND version = $2 AND state = $3",
    )
    .bind(user)
    .bind(version)
    .bind(from)
    .bind(to)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Gives `user` of `team` the (lower-cased) `email`, or none, inside `tx`: false if
/// another user of the team holds it, now or in a transaction committed first.
async fn claim_email(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team: &str,
    user: &str,
    email: Option<&str>,
) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM avatar_emails WHERE team = $1 AND user_id = $2")
        .bind(team)
        .bind(user)
        .execute(&mut **tx)
        .await?;
    let Some(email) = email else {
        return Ok(true);
    };
    let inserted =
        sqlx::query("INSERT INTO avatar_emails (team, email, user_id) VALUES ($1, $2, $3)")
            .bind(team)
            .bind(email)
            .bind(user)
            .execute(&mut **tx)
            .await;
    match inserted {
        Ok(_) => Ok(true),
        // Held by another user; PostgreSQL waits for a racing holder's commit first.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

impl StateDb {
    /// Connects to `url` and creates the tables (`avatar_profiles`, `avatar_versions`,
    /// `avatar_emails`) if missing, adding `avatar_profiles.fields` to a 0.3.0 database:
    /// `sqlite://PATH` (the file is created; processes on one machine may share it),
    /// `sqlite::memory:` (this process only, gone when it ends), or
    /// `postgres://USER:PASSWORD@HOST:PORT/DB` (several machines). At most 8
    /// connections are pooled.
    pub async fn open(url: &str) -> Result<StateDb, SetupError> {
        sqlx::any::install_default_drivers();
        let fail = |e: sqlx::Error| SetupError(format!("state database {url}: {e}"));
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let url = match url.strip_prefix("sqlite://") {
            // Create the file if missing (sqlx opens read-write only by default).
            Some(_) if !memory && !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            // An in-memory SQLite database lives in its one connection.
            .max_connections(if memory { 1 } else { 8 })
            .min_connections(if memory { 1 } else { 0 })
            .idle_timeout(if memory {
                None
            } else {
                Some(Duration::from_secs(300))
            })
            .max_lifetime(if memory {
                None
            } else {
                Some(Duration::from_secs(1800))
            })
            .connect(&url)
            .await
            .map_err(fail)?;
        if url.starts_with("sqlite:") && !memory {
            // Readers do not wait for the writer; several processes share the file.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await
                .map_err(fail)?;
        }
        // Instances starting together race to create the tables (PostgreSQL may refuse
        // the loser's `IF NOT EXISTS` with a unique violation) and to add the column
        // (the loser's ALTER finds it there). Once more, then done.
        for attempt in 0..3 {
            let mut result = Ok(());
            for statement in SCHEMA {
                result = sqlx::query(statement).execute(&pool).await.map(|_| ());
                if result.is_err() {
                    break;
                }
            }
            if result.is_ok() {
                let has_fields = sqlx::query("SELECT fields FROM avatar_profiles LIMIT 1")
                    .fetch_optional(&pool)
                    .await
                    .is_ok();
                if !has_fields {
                    result = sqlx::query(ADD_FIELDS).execute(&pool).await.map(|_| ());
                }
            }
            match result {
                Ok(()) => break,
                Err(e) if attempt == 2 => return Err(fail(e)),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        Ok(StateDb {
            pool,
            shared: !url.starts_with("sqlite:"),
        })
    }

    /// Whether instances on other machines may share this database (PostgreSQL).
    pub(crate) fn is_shared(&self) -> bool {
        self.shared
    }

    /// Whether the database answers a query.
    pub(crate) async fn reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// The user's pointer; the default (no avatar, sequence 0) if none was written.
    pub(crate) async fn profile(&self, user: &str) -> Result<Profile, StateError> {
        let row = sqlx::query(SELECT_PROFILE)
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => profile_of(&row)?,
            None => Profile::default(),
        })
    }

    /// Whether `admin.users.remove` removed the user (on any instance).
    pub(crate) async fn is_removed(&self, user: &str) -> Result<bool, StateError> {
        let row = sqlx::query("SELECT removed FROM avatar_profiles WHERE user_id = $1")
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>("removed")? != 0,
            None => false,
        })
    }

    /// Registers `version` as being published, before its first object is written,
    /// so that no sweep takes it for garbage and the profile can later point at it.
    pub(crate) async fn begin_version(
        &self,
        user: &str,
        version: &str,
        now: u64,
    ) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO avatar_versions (user_id, version, state, since)
             VALUES ($1, $2, 'publishing', $3)",
        )
        .bind(user)
        .bind(version)
        .bind(to_i64(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One change to a user's profile, serial with every other change to that user on
    /// any instance: `change` gets the profile as committed and edits it, returning
    /// whether anything changed (nothing is written if not). If the edit points the
    /// profile at another version, that version must still be `publishing` (else
    /// `internal_error`: the sweep took it) and becomes `current`, and the version it
    /// replaced becomes `retired`; `retire_all` also retires every version of the
    /// user. Returns the profile before and after. The edit must leave the email as
    /// it was: [`change_in_team`](Self::change_in_team) changes emails.
    pub(crate) async fn change(
        &self,
        user: &str,
        now: u64,
        retire_all: bool,
        change: impl FnOnce(&mut Profile) -> Result<bool, &'static str>,
    ) -> Result<(Profile, Profile), Refused> {
        self.change_with(user, None, now, retire_all, change).await
    }

    /// [`change`](Self::change) for a user of `team`, whose edit may also change the
    /// email: the new address must not be another user's of the team
    /// (`email_taken`, also when two such changes race).
    pub(crate) async fn change_in_team(
        &self,
        user: &str,
        team: &str,
        now: u64,
        change: impl FnOnce(&mut Profile) -> Result<bool, &'static str>,
    ) -> Result<(Profile, Profile), Refused> {
        self.change_with(user, Some(team), now, false, change).await
    }

    async fn change_with(
        &self,
        user: &str,
        team: Option<&str>,
        now: u64,
        retire_all: bool,
        change: impl FnOnce(&mut Profile) -> Result<bool, &'static str>,
    ) -> Result<(Profile, Profile), Refused> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(LOCK_ROW).bind(user).execute(&mut *tx).await?;
        let row = sqlx::query(SELECT_PROFILE)
            .bind(user)
            .fetch_one(&mut *tx)
            .await?;
        let before = profile_of(&row)?;
        let mut after = before.clone();
        if !change(&mut after).map_err(Refused::Code)? {
            tx.rollback().await?;
            return Ok((before, after));
        }
        let now_i = to_i64(now);
        if after.version != before.version {
            if let Some(new) = &after.version {
                if !move_version(&mut tx, user, new, "publishing", "current", now_i).await? {
                    tx.rollback().await?;
                    return Err(Refused::Code("internal_error"));
                }
            }
        }
        if retire_all {
            sqlx::query(
                "UPDATE avatar_versions SET state = 'retired', since = $2
                 WHERE user_id = $1 AND state IN ('publishing', 'current')",
            )
            .bind(user)
            .bind(now_i)
            .execute(&mut *tx)
            .await?;
        } else if let Some(old) = before
            .version
            .as_ref()
            .filter(|_| after.version != before.version)
        {
            move_version(&mut tx, user, old, "current", "retired", now_i).await?;
        }
        let email = after.fields.email_key();
        if email != before.fields.email_key() {
            let Some(team) = team else {
                tx.rollback().await?;
                return Err(Refused::Code("internal_error"));
            };
            if !claim_email(&mut tx, team, user, email.as_deref()).await? {
                tx.rollback().await?;
                return Err(Refused::Code("email_taken"));
            }
        }
        let renditions = serde_json::to_string(&after.renditions).expect("renditions serialise");
        let fields = serde_json::to_string(&after.fields).expect("fields serialise");
        sqlx::query(
            "UPDATE avatar_profiles SET version = $2, renditions = $3, original_ext = $4,
                sequence = $5, created = $6, changed = $7, removed = $8, fields = $9
             WHERE user_id = $1",
        )
        .bind(user)
        .bind(after.version.clone())
        .bind(renditions)
        .bind(after.original_ext.clone())
        .bind(to_i64(after.sequence))
        .bind(to_i64(after.created))
        .bind(to_i64(after.changed))
        .bind(i64::from(after.removed))
        .bind(fields)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((before, after))
    }

    /// Forgets a version whose objects are deleted: retired ones right after their
    /// clean-up, `publishing` ones whose upload failed.
    pub(crate) async fn forget_version(&self, user: &str, version: &str) -> Result<(), StateError> {
        sqlx::query(
            "DELETE FROM avatar_versions
             WHERE user_id = $1 AND version = $2 AND state <> 'current'",
        )
        .bind(user)
        .bind(version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the database has a row for this version, in any state.
    pub(crate) async fn knows(&self, user: &str, version: &str) -> Result<bool, StateError> {
        let row =
            sqlx::query("SELECT 1 AS one FROM avatar_versions WHERE user_id = $1 AND version = $2")
                .bind(user)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// Up to `limit` versions the sweep may delete: not `current`, and in their state
    /// since before `cutoff` (seconds since the epoch).
    pub(crate) async fn sweepable(
        &self,
        cutoff: u64,
        limit: i64,
    ) -> Result<Vec<(String, String)>, StateError> {
        let rows = sqlx::query(
            "SELECT user_id, version FROM avatar_versions
             WHERE state <> 'current' AND since < $1 LIMIT $2",
        )
        .bind(to_i64(cutoff))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("user_id")?, r.try_get("version")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Claims a version for the sweep if it is still not `current` and older than
    /// `cutoff`: true if this caller may delete its objects (and then
    /// [`forget_version`](Self::forget_version) it). A publish that comes later finds
    /// it no longer `publishing` and fails.
    pub(crate) async fn claim_for_sweep(
        &self,
        user: &str,
        version: &str,
        cutoff: u64,
        now: u64,
    ) -> Result<bool, StateError> {
        let claimed = sqlx::query(
            "UPDATE avatar_versions SET state = 'sweeping', since = $4
             WHERE user_id = $1 AND version = $2 AND state <> 'current' AND since < $3",
        )
        .bind(user)
        .bind(version)
        .bind(to_i64(cutoff))
        .bind(to_i64(now))
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn point_at(version: &'static str) -> impl FnOnce(&mut Profile) -> Result<bool, &'static str> {
        move |p| {
            p.version = Some(version.into());
            p.sequence += 1;
            Ok(true)
        }
    }

    #[test]
    fn a_profile_points_only_at_a_version_being_published() {
        run(async {
            let db = StateDb::open("sqlite::memory:").await.unwrap();
            assert_eq!(db.profile("U1").await.unwrap(), Profile::default());
            // Never registered: refused, nothing written.
            let refused = db.change("U1", 10, false, point_at("v1")).await;
            assert!(matches!(refused, Err(Refused::Code("internal_error"))));
            assert_eq!(db.profile("U1").await.unwrap().sequence, 0);

            db.begin_version("U1", "v1", 10).await.unwrap();
            let (before, after) = db.change("U1", 11, false, point_at("v1")).await.unwrap();
            assert_eq!((before.sequence, after.sequence), (0, 1));
            assert_eq!(
                db.profile("U1").await.unwrap().version.as_deref(),
                Some("v1")
            );
            // Current: never sweepable, however old.
            assert!(db.sweepable(u64::MAX, 10).await.unwrap().is_empty());

            // The next version retires the one it replaces; the sweep may then take it.
            db.begin_version("U1", "v2", 12).await.unwrap();
            db.change("U1", 12, false, point_at("v2")).await.unwrap();
            assert_eq!(
                db.sweepable(13, 10).await.unwrap(),
                [("U1".to_owned(), "v1".to_owned())]
            );
            assert!(db.sweepable(12, 10).await.unwrap().is_empty(), "grace");
        });
    }

    #[test]
    fn a_swept_version_can_no_longer_be_published() {
        run(async {
            let db = StateDb::open("sqlite::memory:").await.unwrap();
            db.begin_version("U1", "slow", 10).await.unwrap();
            assert!(db.claim_for_sweep("U1", "slow", 20, 20).await.unwrap());
            // Another sweep cannot claim it again until a grace period after the claim
            // (a sweeper that died mid-way is retried then).
            assert!(!db.claim_for_sweep("U1", "slow", 20, 25).await.unwrap());
            assert!(db.claim_for_sweep("U1", "slow", 21, 40).await.unwrap());
            let late = db.change("U1", 21, false, point_at("slow")).await;
            assert!(matches!(late, Err(Refused::Code("internal_error"))));
            assert_eq!(db.profile("U1").await.unwrap().version, None);
            db.forget_version("U1", "slow").await.unwrap();
            assert!(!db.knows("U1", "slow").await.unwrap());
        });
    }

    #[test]
    fn a_change_that_changes_nothing_writes_nothing() {
        run(async {
            let db = StateDb::open("sqlite::memory:").await.unwrap();
            let (_, after) = db.change("U1", 5, false, |_| Ok(false)).await.unwrap();
            assert_eq!(after.sequence, 0);
            let refused = db.change("U1", 5, false, |_| Err("account_inactive")).await;
            assert!(matches!(refused, Err(Refused::Code("account_inactive"))));
            // Removal retires every version, publishing ones included.
            db.begin_version("U1", "v", 5).await.unwrap();
            db.change("U1", 6, true, |p| {
                p.removed = true;
                p.sequence += 1;
                Ok(true)
            })
            .await
            .unwrap();
            assert!(db.is_removed("U1").await.unwrap());
            assert_eq!(db.sweepable(7, 10).await.unwrap().len(), 1);
        });
    }

    fn set_email(email: &'static str) -> impl FnOnce(&mut Profile) -> Result<bool, &'static str> {
        move |p| {
            p.fields.email = Some(email.into());
            p.sequence += 1;
            Ok(true)
        }
    }

    #[test]
    fn an_email_belongs_to_one_user_of_a_team() {
        run(async {
            let db = StateDb::open("sqlite::memory:").await.unwrap();
            db.change_in_team("U1", "T1", 1, set_email("Ada@X.example"))
                .await
                .unwrap();
            let taken = db
                .change_in_team("U2", "T1", 2, set_email("ada@x.example"))
                .await;
            assert!(matches!(taken, Err(Refused::Code("email_taken"))));
            assert_eq!(
                db.profile("U2").await.unwrap(),
                Profile::default(),
                "nothing written"
            );
            // Another team may use it; its holder may change its case.
            db.change_in_team("U9", "T2", 3, set_email("ada@x.example"))
                .await
                .unwrap();
            db.change_in_team("U1", "T1", 4, set_email("ADA@x.example"))
                .await
                .unwrap();
            // Once its holder moves on, it is free.
            db.change_in_team("U1", "T1", 5, set_email("a@y.example"))
                .await
                .unwrap();
            db.change_in_team("U2", "T1", 6, set_email("ada@x.example"))
                .await
                .unwrap();
            let u2 = db.profile("U2").await.unwrap();
            assert_eq!(
                (u2.fields.email.as_deref(), u2.sequence),
                (Some("ada@x.example"), 1)
            );
            // Without a team, an email cannot change.
            let teamless = db.change("U3", 7, false, set_email("c@x.example")).await;
            assert!(matches!(teamless, Err(Refused::Code("internal_error"))));
        });
    }

    #[test]
    fn a_0_3_0_database_gains_the_fields_column() {
        run(async {
            let dir = std::env::temp_dir().join(format!("avatar-state-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("old.db");
            let _ = std::fs::remove_file(&path);
            let url = format!("sqlite://{}", path.display());
            {
                sqlx::any::install_default_drivers();
                let old = AnyPoolOptions::new()
                    .connect(&format!("{url}?mode=rwc"))
                    .await
                    .unwrap();
                // The 0.3.0 table, and a row in it.
                sqlx::query(
                    "CREATE TABLE avatar_profiles (user_id TEXT PRIMARY KEY, version TEXT,
                     renditions TEXT NOT NULL, original_ext TEXT, sequence BIGINT NOT NULL,
                     created BIGINT NOT NULL, changed BIGINT NOT NULL, removed BIGINT NOT NULL)",
                )
                .execute(&old)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO avatar_profiles VALUES ('U1', NULL, '[]', NULL, 7, 1, 2, 0)",
                )
                .execute(&old)
                .await
                .unwrap();
                old.close().await;
            }
            for _ in 0..2 {
                let db = StateDb::open(&url).await.unwrap();
                let p = db.profile("U1").await.unwrap();
                assert_eq!((p.sequence, &p.fields), (7, &Fields::default()));
            }
            let db = StateDb::open(&url).await.unwrap();
            db.change_in_team("U1", "T1", 3, |p| {
                p.fields.title = Some("Countess".into());
                p.sequence += 1;
                Ok(true)
            })
            .await
            .unwrap();
            let p = db.profile("U1").await.unwrap();
            assert_eq!(
                (p.sequence, p.fields.title.as_deref()),
                (8, Some("Countess"))
            );
            let _ = std::fs::remove_dir_all(&dir);
        });
    }
}
