//! The monthly reports' figures (SPEC 10), counted by the database over the dossiers decided in
//! a month: grouped counts, never the dossiers themselves (except the refused ones' numbers).

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::{Db, Engine, StoreError, push_departments, with_db};
use crate::domain::Scope;
use crate::domain::report::{AptLength, RefusedDossier};
use crate::domain::status::Status;

/// The dossiers decided in `[start, end)`, within a scope.
#[derive(Debug, Clone)]
pub struct Decided<'a> {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub scope: &'a Scope,
}

/// `count` dossiers of a département decided with a status, their APT of a length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionCount {
    pub department: Option<String>,
    pub status: Status,
    pub length: AptLength,
    pub count: u64,
}

/// `count` accepted dossiers of a département, APT length and nationality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalityCount {
    pub department: Option<String>,
    pub length: AptLength,
    pub nationality: String,
    pub count: u64,
}

/// `count` dossiers of a département decided `days` whole days after their deposit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaysCount {
    pub department: Option<String>,
    pub days: i64,
    pub count: u64,
}

/// The APT length class of a dossier, computed by the database so that the reports group their
/// counts there. `AptLength::of` is the rule; a test on both engines holds this expression to it
/// over edge dates (`apt_lengths_are_classed_as_the_domain_rule_says`, tests/reports.rs). Only
/// « three months after the start » is written per engine: PostgreSQL's `date + interval
/// '3 months'` clamps the day to the end of the month as the rule does, SQLite's `date(…,
/// '+3 months')` overflows into the next month, hence the last day of the third month after as
/// a bound.
fn length_expression(engine: Engine) -> String {
    let three_months_after = match engine {
        Engine::Postgres => "date_de_debut_apt + interval '3 months'",
        Engine::Sqlite => {
            "min(date(date_de_debut_apt, '+3 months'), \
             date(date_de_debut_apt, 'start of month', '+4 months', '-1 day'))"
        }
    };
    format!(
        "CASE WHEN date_de_debut_apt IS NULL OR date_de_fin_apt IS NULL \
         OR date_de_fin_apt < date_de_debut_apt THEN '{unknown}' \
         WHEN date_de_fin_apt <= {three_months_after} THEN '{short}' ELSE '{long}' END",
        unknown = AptLength::Unknown.code(),
        short = AptLength::UpToThreeMonths.code(),
        long = AptLength::MoreThanThreeMonths.code(),
    )
}

/// Whole seconds since the epoch of a timestamp column, the same on both engines.
fn epoch_seconds(engine: Engine, column: &str) -> String {
    match engine {
        Engine::Postgres => format!("CAST(floor(extract(epoch FROM {column})) AS BIGINT)"),
        Engine::Sqlite => format!("CAST(strftime('%s', {column}) AS INTEGER)"),
    }
}

/// `SELECT {columns} FROM dossiers WHERE` the dossier was decided in the month, within the
/// scope, and still on DS; `status` narrows the decisions to one. The condition on statuses is
/// written out as the partial index `dossiers_reports` (PostgreSQL) states it, so that the
/// planner can prove it is usable; SQLite is told to use it.
fn decided<'q, DB: sqlx::Database>(
    engine: Engine,
    columns: &str,
    decided: &'q Decided<'_>,
    status: Option<Status>,
) -> QueryBuilder<'q, DB>
where
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let index = match engine {
        Engine::Sqlite => " INDEXED BY dossiers_reports",
        Engine::Postgres => "",
    };
    let mut query = QueryBuilder::new(format!(
        "SELECT {columns} FROM dossiers{index} WHERE deleted_on_ds_at IS NULL \
         AND status IN ('closed', 'refused', 'without_continuation') AND processed_at >= "
    ));
    query.push_bind(decided.start);
    query.push(" AND processed_at < ");
    query.push_bind(decided.end);
    if let Some(status) = status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    push_departments(&mut query, "department", decided.scope);
    query
}

fn parse_length(code: &str) -> Result<AptLength, StoreError> {
    AptLength::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("durée « {code} »")))
}

fn parse_status(status: &str) -> Result<Status, StoreError> {
    status
        .parse()
        .map_err(|e: crate::domain::status::UnknownStatus| StoreError::Corrupt(e.to_string()))
}

/// Decisions per département, status and APT length.
pub async fn decisions(db: &Db, month: &Decided<'_>) -> Result<Vec<DecisionCount>, StoreError> {
    let columns = format!(
        "department, status, {} AS apt_length, COUNT(*)",
        length_expression(db.engine())
    );
    let rows: Vec<(Option<String>, String, String, i64)> = with_db!(db, pool => {
        let mut query = decided(db.engine(), &columns, month, None);
        query.push(" GROUP BY 1, 2, 3");
        query.build_query_as().fetch_all(pool).await?
    });
    rows.into_iter()
        .map(|(department, status, length, count)| {
            Ok(DecisionCount {
                department,
                status: parse_status(&status)?,
                length: parse_length(&length)?,
                count: count as u64,
            })
        })
        .collect()
}

/// Accepted dossiers per département, APT length and nationality (as stored; those without
/// one are left out).
pub async fn nationalities(
    db: &Db,
    month: &Decided<'_>,
) -> Result<Vec<NationalityCount>, StoreError> {
    let columns = format!(
        "department, {} AS apt_length, nationalite, COUNT(*)",
        length_expression(db.engine())
    );
    let rows: Vec<(Option<String>, String, String, i64)> = with_db!(db, pool => {
        let mut query = decided(db.engine(), &columns, month, Some(Status::Closed));
        query.push(" AND nationalite IS NOT NULL GROUP BY 1, 2, 3");
        query.build_query_as().fetch_all(pool).await?
    });
    rows.into_iter()
        .map(|(department, length, nationality, count)| {
            Ok(NationalityCount {
                department,
                length: parse_length(&length)?,
                nationality,
                count: count as u64,
            })
        })
        .collect()
}

/// Decisions per département and whole days elapsed since the deposit (`initiated_at`), for
/// dossiers whose deposit is known and not after the decision.
pub async fn processing_days(db: &Db, month: &Decided<'_>) -> Result<Vec<DaysCount>, StoreError> {
    let engine = db.engine();
    let (decided_at, deposited_at) = (
        epoch_seconds(engine, "processed_at"),
        epoch_seconds(engine, "initiated_at"),
    );
    let columns = format!("department, ({decided_at} - {deposited_at}) / 86400 AS days, COUNT(*)");
    let rows: Vec<(Option<String>, i64, i64)> = with_db!(db, pool => {
        let mut query = decided(db.engine(), &columns, month, None);
        query.push(" AND initiated_at IS NOT NULL AND initiated_at <= processed_at GROUP BY 1, 2");
        query.build_query_as().fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(department, days, count)| DaysCount {
            department,
            days,
            count: count as u64,
        })
        .collect())
}

/// The refused dossiers, by département and number.
pub async fn refused(
    db: &Db,
    month: &Decided<'_>,
) -> Result<Vec<(Option<String>, RefusedDossier)>, StoreError> {
    let rows: Vec<(Option<String>, i64, i64)> = with_db!(db, pool => {
        let mut query = decided(db.engine(), "department, ds_id, procedure_id", month, Some(Status::Refused));
        query.push(" ORDER BY department, ds_id");
        query.build_query_as().fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(department, ds_id, procedure_id)| {
            (
                department,
                RefusedDossier {
                    ds_id,
                    procedure_id,
                },
            )
        })
        .collect())
}
