//! The `webhook_events` table (SPEC 12): DS's events, once per (démarche, sequence).

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};
use crate::domain::webhook::WebhookEvent;

/// How long events are kept: long enough to recognise a delivery DS repeats, and to show the
/// last month's activity on the Synchronisation page.
pub const RETENTION_DAYS: i64 = 30;

/// Records the events of a delivery, in one transaction of statements of at most 1,000 rows
/// (far below PostgreSQL's bind-parameter limit); an event already recorded (a delivery DS
/// repeats) is left as it is. Events older than [`RETENTION_DAYS`] are removed meanwhile.
/// Returns how many were new.
pub async fn record(
    db: &Db,
    procedure_id: i64,
    events: &[WebhookEvent],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let expired = now - chrono::Duration::days(RETENTION_DAYS);
    Ok(with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let mut new = 0;
        for chunk in events.chunks(1000) {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO webhook_events (procedure_id, sequence, event_type, dossier_number, event_at, received_at) ",
            );
            query.push_values(chunk, |mut row, e| {
                row.push_bind(procedure_id)
                    .push_bind(e.sequence)
                    .push_bind(e.event_type.as_str())
                    .push_bind(e.dossier_number)
                    .push_bind(e.at)
                    .push_bind(now);
            });
            query.push(" ON CONFLICT (procedure_id, sequence) DO NOTHING");
            new += query.build().execute(&mut *tx).await?.rows_affected();
        }
        sqlx::query("DELETE FROM webhook_events WHERE received_at < $1")
            .bind(expired)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        new
    }))
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Event {
    pub procedure_id: i64,
    pub sequence: i64,
    pub event_type: String,
    pub dossier_number: Option<i64>,
    pub received_at: DateTime<Utc>,
}

/// The last event received.
pub async fn last(db: &Db) -> Result<Option<Event>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            "SELECT procedure_id, sequence, event_type, dossier_number, received_at \
             FROM webhook_events ORDER BY received_at DESC, sequence DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await?
    }))
}

/// How many events of each type were received since `since`.
pub async fn count_by_type(
    db: &Db,
    since: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            "SELECT event_type, COUNT(*) FROM webhook_events WHERE received_at >= $1 \
             GROUP BY event_type ORDER BY event_type",
        )
        .bind(since)
        .fetch_all(pool)
        .await?
    }))
}
