//! The `access_log` table (RGPD): every sign-in, failed or not, every sign-out and every view of
//! personal data (a dossier, Suivi Préfecture, a search by name or e-mail), with the user, the
//! time and the address.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Login,
    LoginFailed,
    Logout,
    DossierView,
    PrefectureView,
    /// A search by name or e-mail; the entry's detail says which, never the text searched.
    DossierSearch,
    /// An open alert marked « prise en compte »; the entry's detail gives the rule.
    AlertAcknowledged,
    /// The départements an account is limited to were changed; the detail names the account
    /// and its new départements.
    DepartmentsChanged,
    /// A run of `wif purge` (SPEC 14); the detail gives its counts, never an erased value.
    Purge,
    /// A ProConnect identity linked to an account at its first ProConnect sign-in (SPEC 15).
    ProConnectLinked,
    /// An administrator unlinked an account's ProConnect identity; the detail names the account.
    ProConnectUnlinked,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::DossierView => "dossier_view",
            Action::PrefectureView => "prefecture_view",
            Action::DossierSearch => "dossier_search",
            Action::AlertAcknowledged => "alert_acknowledged",
            Action::DepartmentsChanged => "departments_changed",
            Action::Purge => "purge",
            Action::ProConnectLinked => "proconnect_linked",
            Action::ProConnectUnlinked => "proconnect_unlinked",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub username: String,
    pub action: String,
    pub ds_id: Option<i64>,
    pub address: String,
    pub detail: Option<String>,
}

pub struct NewEntry<'a> {
    pub user_id: Option<i64>,
    pub username: &'a str,
    pub action: Action,
    pub ds_id: Option<i64>,
    pub address: &'a str,
    /// What kind of search, say; never personal data.
    pub detail: Option<&'a str>,
}

pub async fn record(db: &Db, entry: NewEntry<'_>, at: DateTime<Utc>) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO access_log (at, user_id, username, action, ds_id, address, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(at)
        .bind(entry.user_id)
        .bind(entry.username)
        .bind(entry.action.as_str())
        .bind(entry.ds_id)
        .bind(entry.address)
        .bind(entry.detail)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The most recent entries first, `limit` of them after skipping `offset`; and the total.
pub async fn page(db: &Db, limit: i64, offset: i64) -> Result<(Vec<Entry>, i64), StoreError> {
    Ok(with_db!(db, pool => {
        let entries = sqlx::query_as(
            "SELECT at, username, action, ds_id, address, detail FROM access_log \
             ORDER BY at DESC, id DESC LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM access_log").fetch_one(pool).await?;
        (entries, total)
    }))
}
