//! The `webhook_events` table (SPEC 12): DS's events, once per (démarche, sequence).

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};
use crate::domain::webhook::WebhookEvent;

/// Records the events of a delivery; an event already recorded (a delivery DS repeats) is left
/// as it is. Returns how many were new.
pub async fn record(
    db: &Db,
    procedure_id: i64,
    events: &[WebhookEvent],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    Ok(with_db!(db, pool => {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO webhook_events (procedure_id, sequence, event_type, dossier_number, event_at, received_at) ",
        );
        query.push_values(events, |mut row, e| {
            row.push_bind(procedure_id)
                .push_bind(e.sequence)
                .push_bind(e.event_type.as_str())
                .push_bind(e.dossier_number)
                .push_bind(e.at)
                .push_bind(now);
        });
        query.push(" ON CONFLICT (procedure_id, sequence) DO NOTHING");
        query.build().execute(pool).await?.rows_affected()
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
