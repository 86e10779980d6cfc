//! The `emails` table (SPEC 9.3): every e-mail sent or failed, with what it notified.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};
use crate::domain::report::Month;

/// An e-mail as recorded: never its body.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EmailRow {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub at: DateTime<Utc>,
    pub sent: bool,
    pub error: Option<String>,
}

/// What became of one e-mail.
pub struct Outcome<'a> {
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub at: DateTime<Utc>,
    /// The server's refusal or the connection error; `None` once the server accepted it.
    pub error: Option<&'a str>,
}

/// What a monthly report's e-mail is sent once for, with its recipient: never its subject,
/// which may be reworded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportKey<'a> {
    pub month: Month,
    /// `None`: the national report.
    pub department: Option<&'a str>,
}

/// Records an e-mail and, when it was accepted, the alerts it notified to its recipient, in one
/// transaction: an alert counts as notified exactly when its e-mail is recorded as sent.
pub async fn record(db: &Db, email: &Outcome<'_>, alert_ids: &[i64]) -> Result<i64, StoreError> {
    insert(db, email, alert_ids, None).await
}

/// Records a monthly report's e-mail with the report it carried.
pub async fn record_report(
    db: &Db,
    email: &Outcome<'_>,
    report: ReportKey<'_>,
) -> Result<i64, StoreError> {
    insert(db, email, &[], Some(report)).await
}

async fn insert(
    db: &Db,
    email: &Outcome<'_>,
    alert_ids: &[i64],
    report: Option<ReportKey<'_>>,
) -> Result<i64, StoreError> {
    let report_month = report.map(|r| r.month.to_string());
    let report_department = report.and_then(|r| r.department);
    Ok(with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO emails (kind, recipient, subject, at, sent, error, report_month, \
             report_department) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(email.kind)
        .bind(email.recipient)
        .bind(email.subject)
        .bind(email.at)
        .bind(email.error.is_none())
        .bind(email.error)
        .bind(report_month.as_deref())
        .bind(report_department)
        .fetch_one(&mut *tx)
        .await?;
        if email.error.is_none() {
            for ids in alert_ids.chunks(1000) {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO alert_notifications (alert_id, recipient, email_id) ",
                );
                query.push_values(ids, |mut row, alert_id| {
                    row.push_bind(alert_id).push_bind(email.recipient).push_bind(id);
                });
                query.push(" ON CONFLICT (alert_id, recipient) DO NOTHING");
                query.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        id
    }))
}

/// The latest `limit` e-mails, the most recent first.
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<EmailRow>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, kind, recipient, subject, at, sent, error FROM emails \
             ORDER BY at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// The (département, recipient) of every report of `month` the server accepted; `None` is the
/// national report.
pub async fn reports_sent(
    db: &Db,
    month: Month,
) -> Result<HashSet<(Option<String>, String)>, StoreError> {
    let month = month.to_string();
    let rows: Vec<(Option<String>, String)> = with_db!(db, pool => {
        sqlx::query_as(
            "SELECT report_department, recipient FROM emails WHERE report_month = $1 AND sent",
        )
        .bind(month.as_str())
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().collect())
}
