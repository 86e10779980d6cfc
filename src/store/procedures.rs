//! The `procedures` table: the DS démarches whose dossiers are stored, and their kind.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};
use crate::domain::ProcedureKind;

#[derive(Debug, Clone, PartialEq)]
pub struct Procedure {
    pub id: i64,
    pub kind: ProcedureKind,
    pub dossiers: i64,
    pub created_at: DateTime<Utc>,
}

/// Every known démarche with its number of stored dossiers.
pub async fn list(db: &Db) -> Result<Vec<Procedure>, StoreError> {
    let rows: Vec<(i64, String, i64, DateTime<Utc>)> = with_db!(db, pool => {
        sqlx::query_as(
            "SELECT p.id, p.kind, (SELECT COUNT(*) FROM dossiers d WHERE d.procedure_id = p.id), p.created_at \
             FROM procedures p ORDER BY p.id",
        )
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(id, kind, dossiers, created_at)| {
            let kind = kind
                .parse()
                .map_err(|e: crate::domain::procedure::UnknownKind| {
                    StoreError::Corrupt(e.to_string())
                })?;
            Ok(Procedure {
                id,
                kind,
                dossiers,
                created_at,
            })
        })
        .collect()
}

/// Sets the kind of a démarche, recording it first if no dossier of it was synced yet.
pub async fn set_kind(db: &Db, id: i64, kind: ProcedureKind) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO procedures (id, kind, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind",
        )
        .bind(id)
        .bind(kind.as_str())
        .bind(Utc::now())
        .execute(pool)
        .await?;
    });
    Ok(())
}
