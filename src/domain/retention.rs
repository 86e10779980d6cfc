//! How long personal data are kept (SPEC §14): the policy's durations and when each kind of data
//! falls due. The store applies these cut-offs in SQL; the rule lives here, once.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;

/// Failed sign-ins and DS's webhook events are kept this many days, whatever the settings.
pub const SHORT_LOG_DAYS: u64 = 30;

/// The durations of the retention policy, from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// `WIF_RETENTION_MONTHS`: a decided dossier is kept this long after the later of its
    /// decision and its APT's end.
    pub months: u32,
    /// `WIF_RETENTION_DELETED_DAYS`: a dossier deleted on DS is kept this long after DS deleted it.
    pub deleted_days: u32,
    /// `WIF_LOG_RETENTION_MONTHS`: the access log and the e-mail log.
    pub log_months: u32,
}

impl Default for RetentionPolicy {
    fn default() -> RetentionPolicy {
        RetentionPolicy {
            months: 12,
            deleted_days: 30,
            log_months: 12,
        }
    }
}

/// The instants before which each kind of data is due at `now`: a record is due when its own
/// instant (or date) is strictly before the cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Decided dossiers: decided before this instant…
    pub decided_before: DateTime<Utc>,
    /// …and whose APT ended before this day (local date), or has no readable end.
    pub apt_ended_before: NaiveDate,
    /// Dossiers deleted on DS before this instant.
    pub deleted_before: DateTime<Utc>,
    /// What `validity_check.json` needs of an accepted dossier deleted on DS is kept while its
    /// APT has not ended: until the day after its end date (local date).
    pub today: NaiveDate,
    /// Access log and e-mail log.
    pub logs_before: DateTime<Utc>,
    /// Failed sign-ins and webhook events.
    pub short_logs_before: DateTime<Utc>,
}

impl RetentionPolicy {
    /// The cut-offs at `now`, dates read in `time_zone` (an APT ends at the end of its last day,
    /// in France).
    pub fn cutoffs(&self, now: DateTime<Utc>, time_zone: Tz) -> Cutoffs {
        let decided_before = months_before(now, self.months);
        Cutoffs {
            decided_before,
            apt_ended_before: decided_before.with_timezone(&time_zone).date_naive(),
            deleted_before: now - Days::new(u64::from(self.deleted_days)),
            today: now.with_timezone(&time_zone).date_naive(),
            logs_before: months_before(now, self.log_months),
            short_logs_before: now - Days::new(SHORT_LOG_DAYS),
        }
    }
}

/// `now` minus `months` calendar months (the 31st goes to the month's last day).
fn months_before(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Cutoffs {
    /// Whether a decided dossier is due: decided before the cut-off, and its APT (when its end is
    /// readable) ended before it too. The store's SQL says the same; tests hold them together.
    pub fn decided_is_due(
        &self,
        processed_at: Option<DateTime<Utc>>,
        apt_end: Option<NaiveDate>,
    ) -> bool {
        processed_at.is_some_and(|at| at < self.decided_before)
            && apt_end.is_none_or(|end| end < self.apt_ended_before)
    }

    /// Whether what the validity check needs of an accepted dossier is still needed: its APT
    /// has not ended.
    pub fn apt_still_valid(&self, apt_end: Option<NaiveDate>) -> bool {
        apt_end.is_some_and(|end| end >= self.today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn cutoffs(now: &str) -> Cutoffs {
        RetentionPolicy::default().cutoffs(at(now), chrono_tz::Europe::Paris)
    }

    #[test]
    fn a_decided_dossier_is_due_a_year_after_its_decision() {
        let c = cutoffs("2026-12-02T10:00:00Z");
        assert!(c.decided_is_due(Some(at("2025-12-01T10:00:00Z")), None));
        assert!(!c.decided_is_due(Some(at("2025-12-03T10:00:00Z")), None));
        // A year to the second: due only once the instant is past.
        assert!(!c.decided_is_due(Some(at("2025-12-02T10:00:00Z")), None));
        assert!(c.decided_is_due(Some(at("2025-12-02T09:59:59Z")), None));
        assert!(!c.decided_is_due(None, None), "never decided: never due");
    }

    #[test]
    fn the_apt_end_counts_when_it_is_later() {
        let c = cutoffs("2026-12-02T10:00:00Z");
        let decided = Some(at("2025-01-10T10:00:00Z"));
        assert!(c.decided_is_due(decided, Some(date("2025-11-30"))));
        assert!(c.decided_is_due(decided, Some(date("2025-12-01"))));
        assert!(!c.decided_is_due(decided, Some(date("2025-12-02"))));
        assert!(!c.decided_is_due(decided, Some(date("2026-06-30"))));
    }

    #[test]
    fn months_are_calendar_months() {
        let policy = RetentionPolicy {
            months: 1,
            ..RetentionPolicy::default()
        };
        let c = policy.cutoffs(at("2026-03-31T12:00:00Z"), chrono_tz::Europe::Paris);
        assert_eq!(c.decided_before, at("2026-02-28T12:00:00Z"));
        assert_eq!(c.logs_before, at("2025-03-31T12:00:00Z"));
        assert_eq!(c.short_logs_before, at("2026-03-01T12:00:00Z"));
        assert_eq!(c.deleted_before, at("2026-03-01T12:00:00Z"));
    }

    #[test]
    fn an_apt_is_valid_through_its_last_day_in_paris() {
        // 23:30 UTC on 31 May is already 1 June in Paris.
        let c = cutoffs("2026-05-31T23:30:00Z");
        assert!(!c.apt_still_valid(Some(date("2026-05-31"))));
        assert!(c.apt_still_valid(Some(date("2026-06-01"))));
        assert!(!c.apt_still_valid(None));
    }
}
