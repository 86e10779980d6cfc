//! The `alerts` table (SPEC 9.2): an alert is opened when a rule starts to hold for a dossier and
//! resolved, kept with its date, when it stops; `alert_notifications` says to whom each was
//! e-mailed.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use sqlx::types::Json;

use super::{Db, StoreError, push_departments, with_db};
use crate::domain::alerts::{AlertCode, AlertFacts, StoredRule};
use crate::domain::{Scope, Status};

/// Rows per multi-row statement: 4 values each, under SQLite's parameter limit.
const CHUNK: usize = 1000;

#[derive(sqlx::FromRow)]
struct FactsRow {
    ds_id: i64,
    status: String,
    department: Option<String>,
    initiated_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    processed_at: Option<DateTime<Utc>>,
    date_de_debut_apt: Option<NaiveDate>,
    date_de_fin_apt: Option<NaiveDate>,
    applicant_message_at: Option<DateTime<Utc>>,
}

/// A dossier as the rules see it.
pub struct DossierFacts {
    pub ds_id: i64,
    pub department: Option<String>,
    pub facts: AlertFacts,
}

/// What the rules need of every dossier not deleted on DS and not a draft, streamed.
pub fn facts(db: &Db) -> BoxStream<'_, Result<DossierFacts, StoreError>> {
    let sql = "SELECT ds_id, status, department, initiated_at, received_at, processed_at, \
        date_de_debut_apt, date_de_fin_apt, applicant_message_at FROM dossiers \
        WHERE deleted_on_ds_at IS NULL AND status <> 'draft'";
    let rows = with_db!(db, pool => sqlx::query_as::<_, FactsRow>(sql).fetch(pool).map_err(StoreError::from).boxed());
    rows.map(|row| {
        let row = row?;
        let status = row
            .status
            .parse::<Status>()
            .map_err(|e| StoreError::Corrupt(format!("dossier {} : {e}", row.ds_id)))?;
        Ok(DossierFacts {
            ds_id: row.ds_id,
            department: row.department,
            facts: AlertFacts {
                status,
                initiated_at: row.initiated_at,
                received_at: row.received_at,
                processed_at: row.processed_at,
                date_de_debut_apt: row.date_de_debut_apt,
                date_de_fin_apt: row.date_de_fin_apt,
                applicant_message_at: row.applicant_message_at,
            },
        })
    })
    .boxed()
}

/// An open alert as the evaluation compares it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenAlert {
    pub id: i64,
    pub ds_id: i64,
    #[sqlx(try_from = "String")]
    pub code: StoredRule,
}

pub async fn open(db: &Db) -> Result<Vec<OpenAlert>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT id, ds_id, code FROM alerts WHERE resolved_at IS NULL")
            .fetch_all(pool)
            .await?
    }))
}

/// Opens `opened` (dossier, rule, département) and resolves the alerts `resolved`, at `now`, in
/// one transaction. An alert already open for the same dossier and rule (an evaluation running
/// at the same time) is left as it is.
pub async fn apply(
    db: &Db,
    opened: &[(i64, AlertCode, Option<String>)],
    resolved: &[i64],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        for rows in opened.chunks(CHUNK) {
            let mut query = sqlx::QueryBuilder::new("INSERT INTO alerts (ds_id, code, department, opened_at) ");
            query.push_values(rows, |mut row, (ds_id, code, department)| {
                row.push_bind(ds_id).push_bind(code.as_str()).push_bind(department.as_deref()).push_bind(now);
            });
            query.push(" ON CONFLICT (ds_id, code) WHERE resolved_at IS NULL DO NOTHING");
            query.build().execute(&mut *tx).await?;
        }
        for ids in resolved.chunks(CHUNK) {
            let mut query = sqlx::QueryBuilder::new("UPDATE alerts SET resolved_at = ");
            query.push_bind(now).push(" WHERE resolved_at IS NULL AND id IN (");
            let mut list = query.separated(", ");
            for id in ids {
                list.push_bind(id);
            }
            query.push(")");
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// After many alerts were opened or resolved at once: the planner's statistics, and on
/// PostgreSQL the visibility map that lets the counts read their index alone.
pub async fn refresh_statistics(db: &Db) -> Result<(), StoreError> {
    let sql = match db.engine() {
        super::Engine::Sqlite => "ANALYZE alerts",
        super::Engine::Postgres => "VACUUM (ANALYZE) alerts",
    };
    with_db!(db, pool => {
        sqlx::query(sql).execute(pool).await?;
    });
    Ok(())
}

/// Which alerts a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFilter {
    /// The départements the agent may see.
    pub scope: Scope,
    /// The resolved ones (most recently resolved first) instead of the open ones (oldest first).
    pub resolved: bool,
    pub code: Option<AlertCode>,
    /// `Some(None)`: the alerts of dossiers without a département.
    pub department: Option<Option<String>>,
    pub ds_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertRow {
    pub id: i64,
    pub ds_id: i64,
    #[sqlx(try_from = "String")]
    pub code: StoredRule,
    pub department: Option<String>,
    pub procedure_id: Option<i64>,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
}

/// A page of the alerts `filter` selects: `limit` rows after the first `offset`.
pub async fn list(
    db: &Db,
    filter: &AlertFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<AlertRow>, StoreError> {
    Ok(with_db!(db, pool => {
        let mut query = sqlx::QueryBuilder::new(
            "SELECT a.id, a.ds_id, a.code, a.department, \
             (SELECT d.procedure_id FROM dossiers d WHERE d.ds_id = a.ds_id) AS procedure_id, \
             a.opened_at, a.resolved_at, a.acknowledged_at, a.acknowledged_by FROM alerts a WHERE ",
        );
        push_filter(&mut query, filter);
        query.push(match filter.resolved {
            true => " ORDER BY a.resolved_at DESC, a.id DESC",
            false => " ORDER BY a.opened_at, a.id",
        });
        query.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        query.build_query_as().fetch_all(pool).await?
    }))
}

fn push_filter<'a, DB: sqlx::Database>(
    query: &mut sqlx::QueryBuilder<'a, DB>,
    filter: &'a AlertFilter,
) where
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    query.push(match filter.resolved {
        true => "a.resolved_at IS NOT NULL",
        false => "a.resolved_at IS NULL",
    });
    if let Some(code) = filter.code {
        query.push(" AND a.code = ").push_bind(code.as_str());
    }
    match &filter.department {
        Some(Some(department)) => {
            query
                .push(" AND a.department = ")
                .push_bind(department.as_str());
        }
        Some(None) => {
            query.push(" AND a.department IS NULL");
        }
        None => {}
    }
    if let Some(ds_id) = filter.ds_id {
        query.push(" AND a.ds_id = ").push_bind(ds_id);
    }
    push_departments(query, "a.department", &filter.scope);
}

/// How many alerts of a rule and département are open, or resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCount {
    pub code: StoredRule,
    /// `None`: dossiers without a département.
    pub department: Option<String>,
    pub count: i64,
}

/// How many alerts of each rule and département are open, or resolved.
pub async fn counts(db: &Db, resolved: bool) -> Result<Vec<AlertCount>, StoreError> {
    let sql = match resolved {
        false => {
            "SELECT code, department, COUNT(*) FROM alerts WHERE resolved_at IS NULL GROUP BY code, department"
        }
        true => {
            "SELECT code, department, COUNT(*) FROM alerts WHERE resolved_at IS NOT NULL GROUP BY code, department"
        }
    };
    let rows: Vec<(String, Option<String>, i64)> =
        with_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(|(code, department, count)| AlertCount {
            code: code.into(),
            department,
            count,
        })
        .collect())
}

/// The alert rows without their démarche (the pages that show one know it), then `$rest`.
macro_rules! alert_rows {
    ($rest:literal) => {
        concat!(
            "SELECT a.id, a.ds_id, a.code, a.department, CAST(NULL AS BIGINT) AS procedure_id, \
             a.opened_at, a.resolved_at, a.acknowledged_at, a.acknowledged_by FROM alerts a ",
            $rest
        )
    };
}

/// Every alert of a dossier, the most recent first.
pub async fn of_dossier(db: &Db, ds_id: i64) -> Result<Vec<AlertRow>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            alert_rows!("WHERE a.ds_id = $1 ORDER BY a.opened_at DESC, a.id DESC"),
        )
        .bind(ds_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Marks an open alert of `scope` « prise en compte » by `username`. Returns its dossier and
/// rule, or `None` when there is no such open alert, it was already taken into account, or it is
/// another département's.
pub async fn acknowledge(
    db: &Db,
    id: i64,
    scope: &Scope,
    username: &str,
    now: DateTime<Utc>,
) -> Result<Option<(i64, StoredRule)>, StoreError> {
    let row: Option<(i64, String)> = with_db!(db, pool => {
        let mut query = sqlx::QueryBuilder::new("UPDATE alerts SET acknowledged_at = ");
        query.push_bind(now).push(", acknowledged_by = ").push_bind(username);
        query.push(" WHERE id = ").push_bind(id);
        query.push(" AND resolved_at IS NULL AND acknowledged_at IS NULL");
        // `a.department` in the scope's condition: the table is named as in the lists.
        query.push(" AND id IN (SELECT a.id FROM alerts a WHERE a.id = ").push_bind(id);
        push_departments(&mut query, "a.department", scope);
        query.push(") RETURNING ds_id, code");
        query.build_query_as().fetch_optional(pool).await?
    });
    Ok(row.map(|(ds_id, code)| (ds_id, code.into())))
}

/// An open alert to e-mail, with the instructors of its dossier.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub id: i64,
    pub ds_id: i64,
    pub procedure_id: i64,
    #[sqlx(try_from = "String")]
    pub code: StoredRule,
    pub opened_at: DateTime<Utc>,
    pub instructeurs: Json<Vec<String>>,
}

/// The open alerts of dossiers still on DS and not decided before `decided_after`, oldest first.
pub async fn notifiable(db: &Db, decided_after: DateTime<Utc>) -> Result<Vec<Pending>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            "SELECT a.id, a.ds_id, d.procedure_id, a.code, a.opened_at, d.instructeurs \
             FROM alerts a JOIN dossiers d ON d.ds_id = a.ds_id \
             WHERE a.resolved_at IS NULL AND d.deleted_on_ds_at IS NULL \
             AND (d.processed_at IS NULL OR d.processed_at >= $1) \
             ORDER BY a.opened_at, a.id",
        )
        .bind(decided_after)
        .fetch_all(pool)
        .await?
    }))
}

/// Who was already told of which open alert: (alert, recipient).
pub async fn notified(db: &Db) -> Result<HashSet<(i64, String)>, StoreError> {
    let rows: Vec<(i64, String)> = with_db!(db, pool => {
        sqlx::query_as(
            "SELECT n.alert_id, n.recipient FROM alert_notifications n \
             JOIN alerts a ON a.id = n.alert_id WHERE a.resolved_at IS NULL",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().collect())
}

/// Every alert, open first, or only the open ones, for scripts (`wif alerts list`).
pub async fn all(db: &Db, include_resolved: bool) -> Result<Vec<AlertRow>, StoreError> {
    let sql = match include_resolved {
        false => alert_rows!("WHERE a.resolved_at IS NULL ORDER BY a.opened_at, a.id"),
        true => alert_rows!("ORDER BY a.resolved_at IS NOT NULL, a.opened_at, a.id"),
    };
    Ok(with_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?))
}
