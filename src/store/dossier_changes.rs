//! The `dossier_changes` table: a dossier's sync history (SPEC 6), what later syncs changed among
//! its status, its APT dates and its presence on DS. Values are stored raw (status codes, ISO
//! dates) and read back typed; the pages format them.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Db, StoreError, with_db};
use crate::domain::dates::parse_iso_date;
use crate::domain::{DsId, Status};

/// Changes kept per dossier: the oldest go beyond it.
pub(super) const HISTORY_LIMIT: i64 = 20;

/// A dossier's APT dates, each unknown when missing or unreadable on DS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AptDates {
    pub debut: Option<NaiveDate>,
    pub fin: Option<NaiveDate>,
}

/// One change a sync brought to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Status {
        before: Status,
        after: Status,
    },
    Apt {
        before: AptDates,
        after: AptDates,
    },
    /// DS no longer lists it.
    Deleted,
    /// DS lists it again.
    Restored,
}

impl Change {
    /// The `what`, `before` and `after` columns: status codes; APT dates as `début/fin` in ISO
    /// 8601, an unknown one empty, `NULL` when neither is known.
    pub(super) fn columns(&self) -> (&'static str, Option<String>, Option<String>) {
        match self {
            Change::Status { before, after } => (
                "status",
                Some(before.as_str().to_owned()),
                Some(after.as_str().to_owned()),
            ),
            Change::Apt { before, after } => ("apt", apt_text(*before), apt_text(*after)),
            Change::Deleted => ("deleted", None, None),
            Change::Restored => ("restored", None, None),
        }
    }

    /// A change from its columns, or what is wrong with them.
    fn read(what: &str, before: Option<&str>, after: Option<&str>) -> Result<Change, String> {
        Ok(match what {
            "status" => Change::Status {
                before: read_status(before)?,
                after: read_status(after)?,
            },
            "apt" => Change::Apt {
                before: read_apt(before)?,
                after: read_apt(after)?,
            },
            "deleted" => Change::Deleted,
            "restored" => Change::Restored,
            other => return Err(format!("changement « {other} » inconnu")),
        })
    }
}

fn apt_text(dates: AptDates) -> Option<String> {
    let iso = |d: Option<NaiveDate>| d.map_or_else(String::new, |d| d.to_string());
    (dates.debut.is_some() || dates.fin.is_some())
        .then(|| format!("{}/{}", iso(dates.debut), iso(dates.fin)))
}

fn read_apt(text: Option<&str>) -> Result<AptDates, String> {
    let Some(text) = text else {
        return Ok(AptDates::default());
    };
    let unreadable = || format!("dates d'APT « {text} » illisibles");
    let (debut, fin) = text.split_once('/').ok_or_else(unreadable)?;
    let date = |d: &str| match d {
        "" => Ok(None),
        d => parse_iso_date(d).map(Some).ok_or_else(unreadable),
    };
    Ok(AptDates {
        debut: date(debut)?,
        fin: date(fin)?,
    })
}

fn read_status(code: Option<&str>) -> Result<Status, String> {
    code.ok_or_else(|| "statut manquant".to_owned())?
        .parse()
        .map_err(|e: crate::domain::status::UnknownStatus| e.to_string())
}

/// Records `changes` (dossier, change) at `at` in the transaction `tx` of the writes they
/// describe, and keeps the history of their dossiers under `HISTORY_LIMIT`.
macro_rules! record_changes {
    ($tx:expr, $changes:expr, $at:expr) => {
        for chunk in $changes.chunks(500) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO dossier_changes (ds_id, at, what, before, after) ",
            );
            insert.push_values(chunk, |mut row, (ds_id, change)| {
                let (what, before, after) = $crate::store::dossier_changes::Change::columns(change);
                row.push_bind(*ds_id)
                    .push_bind($at)
                    .push_bind(what)
                    .push_bind(before)
                    .push_bind(after);
            });
            insert.build().execute(&mut *$tx).await?;
            let mut prune = sqlx::QueryBuilder::new(
                "DELETE FROM dossier_changes WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() \
                 OVER (PARTITION BY ds_id ORDER BY id DESC) AS n FROM dossier_changes \
                 WHERE ds_id IN (",
            );
            let mut ids = prune.separated(", ");
            for (ds_id, _) in chunk {
                ids.push_bind(*ds_id);
            }
            prune
                .push(")) AS ranked WHERE n > ")
                .push_bind($crate::store::dossier_changes::HISTORY_LIMIT)
                .push(")");
            prune.build().execute(&mut *$tx).await?;
        }
    };
}
pub(super) use record_changes;

/// A dossier's history, the most recent change first: when, the sync run going on then (the
/// last one started by then, if any), and the change. A row this version cannot read is an
/// error that names the dossier.
pub async fn history(
    db: &Db,
    ds_id: DsId,
) -> Result<Vec<(DateTime<Utc>, Option<i64>, Change)>, StoreError> {
    type Row = (
        DateTime<Utc>,
        Option<i64>,
        String,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = with_db!(db, pool => {
        sqlx::query_as(
            "SELECT c.at, \
             (SELECT r.id FROM sync_runs r WHERE r.started_at <= c.at \
              ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS run_id, \
             c.what, c.before, c.after \
             FROM dossier_changes c WHERE c.ds_id = $1 ORDER BY c.id DESC",
        )
        .bind(ds_id.get())
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(at, run_id, what, before, after)| {
            let change = Change::read(&what, before.as_deref(), after.as_deref()).map_err(|e| {
                StoreError::Corrupt(format!("historique du dossier {} : {e}", ds_id.get()))
            })?;
            Ok((at, run_id, change))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Option<NaiveDate> {
        parse_iso_date(text)
    }

    #[test]
    fn changes_are_read_back_as_written() {
        let apt = |debut: &str, fin: &str| AptDates {
            debut: day(debut),
            fin: day(fin),
        };
        for change in [
            Change::Status {
                before: Status::Received,
                after: Status::Closed,
            },
            Change::Apt {
                before: AptDates::default(),
                after: apt("2028-02-29", "2028-05-29"),
            },
            Change::Apt {
                before: apt("", "2026-04-30"),
                after: apt("2026-01-31", ""),
            },
            Change::Deleted,
            Change::Restored,
        ] {
            let (what, before, after) = change.columns();
            assert_eq!(
                Change::read(what, before.as_deref(), after.as_deref()),
                Ok(change)
            );
        }
        let (_, before, after) = Change::Apt {
            before: AptDates::default(),
            after: apt("2026-01-31", ""),
        }
        .columns();
        assert_eq!((before, after), (None, Some("2026-01-31/".to_owned())));
    }

    #[test]
    fn unreadable_columns_are_named() {
        for (what, before, after, expected) in [
            (
                "status",
                Some("Accepté"),
                Some("closed"),
                "statut inconnu « Accepté »",
            ),
            ("status", None, Some("closed"), "statut manquant"),
            (
                "apt",
                Some("31/01/2026 – 30/04/2026"),
                None,
                "dates d'APT « 31/01/2026 – 30/04/2026 » illisibles",
            ),
            (
                "apt",
                None,
                Some("2026-02-31/"),
                "dates d'APT « 2026-02-31/ » illisibles",
            ),
            ("moved", None, None, "changement « moved » inconnu"),
        ] {
            assert_eq!(
                Change::read(what, before, after),
                Err(expected.to_owned()),
                "{what} {before:?} {after:?}"
            );
        }
    }
}
