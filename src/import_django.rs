//! `wif import-django` (SPEC section 13): the Python back office's database -> `domain` ->
//! `store`. Dossiers go through the v1 reading of a sync and its upsert rule (a stored row is
//! only replaced by a newer `updated_at`); accounts keep their Django hash until their first
//! sign-in. Running it twice changes nothing.

use std::str::FromStr;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use indicatif::ProgressBar;
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::mpsc;

use crate::django::{DjangoDossier, DjangoUser, Source, SourceError};
use crate::domain::Dossier;
use crate::domain::account::{self, HashKind};
use crate::store::dossiers::{self, UpsertCounts};
use crate::store::users::{self, ImportedUser};
use crate::store::{Db, Engine, StoreError};

/// Dossiers per fetch from the source and per transaction in ours.
const BATCH: usize = 1000;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The DS démarche of the imported dossiers: the Python back office's table does not say.
    pub procedure: i64,
    /// Count what would change, write nothing.
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "--from désigne la base de wif elle-même (WIF_DATABASE_URL) : indiquez celle du back office Python"
    )]
    SameDatabase,
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The role an account of the Django admin gets here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Administrator,
    Agent,
    /// Neither staff nor superuser: it could not use the old admin, it cannot use ours.
    Inactive,
}

impl Role {
    /// The role, then `is_superuser` and `is_active` of the account here.
    fn of(user: &DjangoUser) -> (Role, bool, bool) {
        match (user.is_superuser, user.is_staff) {
            (true, _) => (Role::Administrator, true, user.is_active),
            (false, true) => (Role::Agent, false, user.is_active),
            (false, false) => (Role::Inactive, false, false),
        }
    }
}

/// What became of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountOutcome {
    Imported(Role),
    /// Imported by an earlier run: same username, same date of creation.
    AlreadyImported,
    /// Another account of ours has that username: left alone.
    UsernameTaken,
    /// Not taken up, for this reason: a username or an e-mail that would reach a terminal or a
    /// log with control characters, or a hash whose declared cost we do not pay.
    Refused(&'static str),
}

#[derive(Debug, Clone)]
pub struct AccountReport {
    pub username: String,
    pub outcome: AccountOutcome,
    /// Its password can never match (Django's unusable one, or an unknown hasher): an
    /// administrator must set one.
    pub unusable_password: bool,
}

#[derive(Debug, Clone, Default)]
pub struct DossierCounts {
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// The rows that could not be read: DS number and reason.
    pub skipped: Vec<(i64, String)>,
}

#[derive(Debug, Clone)]
pub struct Report {
    /// Where the source is, without its password.
    pub source: String,
    pub dry_run: bool,
    pub accounts: Vec<AccountReport>,
    pub dossiers: DossierCounts,
    pub duration: Duration,
}

impl Report {
    /// How many accounts had this outcome.
    pub fn count(&self, outcome: AccountOutcome) -> usize {
        self.accounts
            .iter()
            .filter(|a| a.outcome == outcome)
            .count()
    }
}

/// Imports the accounts, then the dossiers, from the database at `source_url` into `db`.
/// Dossiers are stored a batch per transaction: after a failure, what was stored stays stored,
/// and a new run goes on from there at no cost.
pub async fn run(
    db: &Db,
    source_url: &str,
    target_url: &str,
    options: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Report, ImportError> {
    if same_database(source_url, target_url) {
        return Err(ImportError::SameDatabase);
    }
    let started = Instant::now();
    let mut source = Source::open(source_url).await?;
    let django_users = source.users().await?;
    let total = source.count_dossiers().await?;
    source.open_dossiers().await?;

    progress.set_length(total);
    progress.set_message("comptes");
    let mut accounts = Vec::with_capacity(django_users.len());
    for user in &django_users {
        accounts.push(import_account(db, user, options.dry_run).await?);
    }

    progress.set_message("dossiers");
    let report = Report {
        source: source.target().to_owned(),
        dry_run: options.dry_run,
        accounts,
        dossiers: import_dossiers(db, source, options, progress).await?,
        duration: Duration::ZERO,
    };
    Ok(Report {
        duration: started.elapsed(),
        ..report
    })
}

async fn import_account(
    db: &Db,
    user: &DjangoUser,
    dry_run: bool,
) -> Result<AccountReport, ImportError> {
    let report = |outcome| AccountReport {
        username: user.username.clone(),
        outcome,
        unusable_password: account::kind(&user.password) == HashKind::Unusable,
    };
    if let Some(reason) = refusal(user) {
        return Ok(report(AccountOutcome::Refused(reason)));
    }
    let (role, is_superuser, is_active) = Role::of(user);
    let outcome = match users::find_by_username(db, &user.username).await? {
        Some(ours) if ours.created_at == user.date_joined => AccountOutcome::AlreadyImported,
        Some(_) => AccountOutcome::UsernameTaken,
        None if dry_run => AccountOutcome::Imported(role),
        None => {
            let imported = ImportedUser {
                username: &user.username,
                email: &user.email,
                first_name: &user.first_name,
                last_name: &user.last_name,
                password_hash: &user.password,
                is_superuser,
                is_active,
                date_joined: user.date_joined,
                last_login: user.last_login,
            };
            match users::insert_imported(db, &imported).await? {
                true => AccountOutcome::Imported(role),
                // Created meanwhile by someone else.
                false => AccountOutcome::UsernameTaken,
            }
        }
    };
    Ok(report(outcome))
}

/// Why an account of the Python back office is not taken up, if it is not.
fn refusal(user: &DjangoUser) -> Option<&'static str> {
    if let Err(reason) = account::check_username(&user.username) {
        return Some(reason);
    }
    // Other oddities of an old address are kept as Django accepted them.
    if user.email.chars().any(char::is_control) {
        return Some("l'adresse e-mail contient un caractère de contrôle");
    }
    if account::too_costly(&user.password) {
        return Some(
            "son mot de passe est haché avec des paramètres trop coûteux à vérifier, que wif n'accepte pas",
        );
    }
    None
}

/// Streams the dossiers through a pipeline: the source fetches the next batches, two batches
/// are read at once (CPU, on the blocking pool) and, on PostgreSQL, several are stored at once,
/// each in its own transaction (the batches hold different dossiers, so they never wait on each
/// other). SQLite has a single writer: one batch at a time.
async fn import_dossiers(
    db: &Db,
    mut source: Source,
    options: &ImportOptions,
    progress: &ProgressBar,
) -> Result<DossierCounts, ImportError> {
    let (sender, batches) = mpsc::channel::<Result<Vec<DjangoDossier>, SourceError>>(2);
    let reader = tokio::spawn(async move {
        loop {
            let batch = source.next_dossiers(BATCH).await;
            if batch.as_ref().is_ok_and(Vec::is_empty) {
                break;
            }
            let failed = batch.is_err();
            if sender.send(batch).await.is_err() || failed {
                break;
            }
        }
        source.close().await;
    });

    let procedure = options.procedure;
    let writers = match db.engine() {
        Engine::Postgres => 3,
        Engine::Sqlite => 1,
    };
    let stored = stream::unfold(batches, |mut batches| async move {
        batches.recv().await.map(|batch| (batch, batches))
    })
    .map(|batch| async move {
        let rows = batch?;
        Ok::<_, ImportError>(
            join(tokio::task::spawn_blocking(move || {
                read_rows(procedure, rows)
            }))
            .await,
        )
    })
    .buffered(2)
    .map(|read| async move {
        let read = read?;
        let done = match options.dry_run {
            true => dossiers::preview_upsert(db, &read.dossiers).await?,
            false => dossiers::upsert(db, &read.dossiers).await?,
        };
        Ok::<_, ImportError>((read, done))
    })
    .buffer_unordered(writers);

    let mut stored = std::pin::pin!(stored);
    let mut counts = DossierCounts::default();
    while let Some(result) = stored.next().await {
        let (read, done) = result?;
        count(&mut counts, read, done, progress);
    }
    join(reader).await;
    Ok(counts)
}

async fn join<T>(task: tokio::task::JoinHandle<T>) -> T {
    task.await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
}

/// A batch of rows read as v1 dossiers, and those that could not be, with the reason.
struct ReadBatch {
    rows: u64,
    dossiers: Vec<Dossier>,
    skipped: Vec<(i64, String)>,
}

fn read_rows(procedure: i64, rows: Vec<DjangoDossier>) -> ReadBatch {
    let mut read = ReadBatch {
        rows: rows.len() as u64,
        dossiers: Vec::with_capacity(rows.len()),
        skipped: Vec::new(),
    };
    for row in rows {
        let dossier = serde_json::from_str::<Value>(&row.raw_json)
            .map_err(|e| format!("raw_json illisible ({e})"))
            .and_then(|raw| Dossier::from_v1(procedure, raw).map_err(|e| e.reason));
        match dossier {
            Ok(d) if d.ds_id.get() == row.ds_id => read.dossiers.push(d),
            Ok(d) => read.skipped.push((
                row.ds_id,
                format!("raw_json est celui du dossier {}", d.ds_id),
            )),
            Err(reason) => read.skipped.push((row.ds_id, reason)),
        }
    }
    read
}

/// Adds a stored batch to the counts and the progress.
fn count(counts: &mut DossierCounts, read: ReadBatch, done: UpsertCounts, progress: &ProgressBar) {
    // Above the bar on a terminal, not through it.
    progress.suspend(|| {
        for (ds_id, reason) in &read.skipped {
            tracing::warn!(ds_id, %reason, "dossier ignoré");
        }
    });
    counts.read += read.rows;
    counts.created += done.created;
    counts.updated += done.updated;
    counts.unchanged += done.unchanged;
    counts.skipped.extend(read.skipped);
    progress.inc(read.rows);
    let (position, total) = (progress.position(), progress.length());
    if progress.is_hidden() && (position % 10_000 < read.rows || Some(position) == total) {
        tracing::info!(done = position, total, "dossiers importés");
    }
}

/// Whether two URLs name the same PostgreSQL database (same host, port and name).
fn same_database(a: &str, b: &str) -> bool {
    let parse = |url: &str| {
        let options = PgConnectOptions::from_str(url).ok()?;
        Some((
            options.get_host().to_owned(),
            options.get_port(),
            options.get_database().map(str::to_owned),
        ))
    };
    b.starts_with("postgres") && parse(a).is_some_and(|a| Some(a) == parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn django_user(is_superuser: bool, is_staff: bool, is_active: bool) -> DjangoUser {
        DjangoUser {
            username: "marie".into(),
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            password: "!".into(),
            is_superuser,
            is_staff,
            is_active,
            date_joined: Utc::now(),
            last_login: None,
        }
    }

    #[test]
    fn django_roles_map_onto_ours() {
        let role = |s, st, a| {
            let (role, superuser, active) = Role::of(&django_user(s, st, a));
            (role, superuser, active)
        };
        assert_eq!(role(true, true, true), (Role::Administrator, true, true));
        assert_eq!(role(true, false, true), (Role::Administrator, true, true));
        assert_eq!(role(false, true, true), (Role::Agent, false, true));
        assert_eq!(role(false, true, false), (Role::Agent, false, false));
        assert_eq!(role(false, false, true), (Role::Inactive, false, false));
    }

    #[test]
    fn hostile_names_and_costly_hashes_are_refused() {
        let user = |username: &str, email: &str, password: &str| DjangoUser {
            username: username.into(),
            email: email.into(),
            password: password.into(),
            ..django_user(false, true, true)
        };
        let pbkdf2 = "pbkdf2_sha256$100000$seedSalt$vb8SWn+NeKf51onW0PGqpYy5w53s42I/ABJa6mGB/70=";
        for acceptable in [
            user("marie.curie", "", pbkdf2),
            user("marie.curie", "marie@localhost", "!unusable"),
            user(
                "zoé+2@dreets",
                "zoe@dreets.gouv.fr",
                "argon2$argon2id$v=19$m=102400,t=2,p=8$a$b",
            ),
        ] {
            assert_eq!(refusal(&acceptable), None, "{:?}", acceptable.username);
        }
        for (refused, expected) in [
            (user("marie\u{1b}[31m", "", pbkdf2), "nom d'utilisateur"),
            (user("marie\u{7}", "", pbkdf2), "nom d'utilisateur"),
            (user("marie\r\nroot", "", pbkdf2), "nom d'utilisateur"),
            (user("marie", "m@x.fr\r\nBcc: y@z.fr", pbkdf2), "e-mail"),
            (user("marie", "m\u{1b}]0;x\u{7}@x.fr", pbkdf2), "e-mail"),
            (
                user(
                    "marie",
                    "",
                    "$argon2id$v=19$m=8,t=2000000,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                ),
                "trop coûteux",
            ),
            (
                user(
                    "marie",
                    "",
                    "pbkdf2_sha256$900000000$s$vb8SWn+NeKf51onW0PGqpYy5w53s42I/ABJa6mGB/70=",
                ),
                "trop coûteux",
            ),
        ] {
            let reason = refusal(&refused).unwrap_or_else(|| panic!("{:?}", refused.username));
            assert!(reason.contains(expected), "{reason}");
        }
    }

    #[test]
    fn unreadable_rows_are_reported_with_their_number() {
        let row = |ds_id, raw_json: &str| DjangoDossier {
            ds_id,
            raw_json: raw_json.into(),
        };
        let read = read_rows(
            7,
            vec![
                row(1, r#"{"dossier": {"id": 1, "state": "closed"}}"#),
                row(2, r#"{"dossier": {"id": 2, "state": "perdu"}}"#),
                row(3, r#"{"dossier": {"id": 4, "state": "closed"}}"#),
                row(5, "[1, 2"),
                row(6, r#"{"dossier": {"state": "closed"}}"#),
            ],
        );
        assert_eq!(read.rows, 5);
        assert_eq!(read.dossiers.len(), 1);
        assert_eq!(read.dossiers[0].procedure_id, 7);
        let skipped: Vec<i64> = read.skipped.iter().map(|(id, _)| *id).collect();
        assert_eq!(skipped, [2, 3, 5, 6]);
        assert!(read.skipped[0].1.contains("perdu"), "{:?}", read.skipped);
        assert!(
            read.skipped[1].1.contains("dossier 4"),
            "{:?}",
            read.skipped
        );
    }

    #[test]
    fn the_same_database_is_recognised_whatever_the_credentials() {
        assert!(same_database(
            "postgres://old:pw@db:5432/wif",
            "postgres://wif@db/wif?sslmode=disable"
        ));
        assert!(!same_database(
            "postgres://db:5432/work_in_france_bo",
            "postgres://db:5432/wif"
        ));
        assert!(!same_database(
            "postgres://db:5432/wif",
            "postgres://db:5433/wif"
        ));
        assert!(!same_database("postgres://db/wif", "sqlite://wif.sqlite3"));
    }
}
