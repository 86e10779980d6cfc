//! A dossier's sync history on both engines: rows written by earlier versions (dates formatted
//! for display) read back typed after migration 0020, and a row no version could have written is
//! a clear error, never a panic.

mod common;

use chrono::NaiveDate;
use common::{TestDb, at};
use wif::domain::{DsId, Status};
use wif::store::StoreError;
use wif::store::dossier_changes::{self, AptDates, Change};

fn day(text: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap())
}

/// `(ds_id, what, before, after)` rows, in this order.
async fn insert(t: &TestDb, rows: &[(i64, &str, Option<&str>, Option<&str>)]) {
    macro_rules! insert {
        ($pool:expr) => {
            for (ds_id, what, before, after) in rows {
                sqlx::query(
                    "INSERT INTO dossier_changes (ds_id, at, what, before, after) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(ds_id)
                .bind(at("2026-03-02T08:00:00Z"))
                .bind(what)
                .bind(before)
                .bind(after)
                .execute($pool)
                .await
                .unwrap();
            }
        };
    }
    match &t.db {
        wif::store::Db::Sqlite(pool) => insert!(pool),
        wif::store::Db::Postgres(pool) => insert!(pool),
    }
}

async fn history(t: &TestDb, ds_id: i64) -> Result<Vec<Change>, StoreError> {
    let rows = dossier_changes::history(&t.db, DsId::new(ds_id).unwrap()).await?;
    Ok(rows.into_iter().map(|(_, _, change)| change).collect())
}

#[tokio::test]
async fn migration_0020_reads_the_old_history_back_typed_sqlite() {
    history_written_before_0020(&TestDb::sqlite(false).await).await;
}

#[tokio::test]
async fn migration_0020_reads_the_old_history_back_typed_postgres() {
    if let Some(t) = TestDb::postgres(false).await {
        history_written_before_0020(&t).await;
    }
}

/// Rows as the sync wrote them before 0020 (and status labels, which it never wrote), read
/// back typed once the schema is migrated; a value of neither shape stays an error.
async fn history_written_before_0020(t: &TestDb) {
    macro_rules! before_0020 {
        ($pool:expr, $migrations:literal) => {{
            let mut migrator = sqlx::migrate!($migrations);
            migrator.migrations = migrator
                .migrations
                .iter()
                .filter(|m| m.version < 20)
                .cloned()
                .collect::<Vec<_>>()
                .into();
            migrator.run($pool).await.unwrap();
        }};
    }
    match &t.db {
        wif::store::Db::Sqlite(pool) => before_0020!(pool, "migrations/sqlite"),
        wif::store::Db::Postgres(pool) => before_0020!(pool, "migrations/postgres"),
    }
    insert(
        t,
        &[
            (42, "status", Some("received"), Some("closed")),
            (42, "status", Some("En instruction"), Some("Accepté")),
            (42, "apt", None, Some("31/01/2026 – 30/04/2026")),
            (42, "apt", Some("? – 30/04/2026"), Some("29/02/2028 – ?")),
            (42, "deleted", None, None),
            (42, "restored", None, None),
            (43, "apt", Some("bientôt – 30/04/2026"), None),
            (44, "status", Some("Acceptée"), Some("closed")),
        ],
    )
    .await;
    t.db.migrate().await.unwrap();

    let dates = |debut: &str, fin: &str| AptDates {
        debut: (!debut.is_empty()).then(|| day(debut)).flatten(),
        fin: (!fin.is_empty()).then(|| day(fin)).flatten(),
    };
    let accepted = Change::Status {
        before: Status::Received,
        after: Status::Closed,
    };
    assert_eq!(
        history(t, 42).await.unwrap(),
        [
            Change::Restored,
            Change::Deleted,
            Change::Apt {
                before: dates("", "2026-04-30"),
                after: dates("2028-02-29", ""),
            },
            Change::Apt {
                before: AptDates::default(),
                after: dates("2026-01-31", "2026-04-30"),
            },
            accepted,
            accepted,
        ]
    );
    for (ds_id, value) in [
        (43, "dates d'APT « bientôt – 30/04/2026 » illisibles"),
        (44, "statut inconnu « Acceptée »"),
    ] {
        let error = history(t, ds_id).await.unwrap_err();
        assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!("donnée illisible dans la base : historique du dossier {ds_id} : {value}")
        );
    }
}

both_engines!(an_unreadable_change_is_a_clear_error);

/// A value this version cannot read (another version's, or edited by hand) names the dossier and
/// the value, whatever the column.
async fn an_unreadable_change_is_a_clear_error(t: &TestDb) {
    insert(
        t,
        &[
            (1, "status", Some("approved"), Some("closed")),
            (2, "status", Some("received"), None),
            (3, "apt", Some("2026-02-30/"), None),
            (4, "apt", None, Some("2026-01-31")),
            (5, "apt", None, Some("2026-01-31/2026-04-30")),
        ],
    )
    .await;
    for (ds_id, expected) in [
        (1, "statut inconnu « approved »"),
        (2, "statut manquant"),
        (3, "dates d'APT « 2026-02-30/ » illisibles"),
        (4, "dates d'APT « 2026-01-31 » illisibles"),
    ] {
        let error = history(t, ds_id).await.unwrap_err();
        assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
        assert!(
            error
                .to_string()
                .ends_with(&format!("historique du dossier {ds_id} : {expected}")),
            "{error}"
        );
    }
    assert_eq!(
        history(t, 5).await.unwrap(),
        [Change::Apt {
            before: AptDates::default(),
            after: AptDates {
                debut: day("2026-01-31"),
                fin: day("2026-04-30"),
            },
        }]
    );
}
