//! Five-field cron schedules (`minute hour day-of-month month day-of-week`), read in a time zone:
//! `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`; day of week 0–7 (0 and 7
//! are Sunday); when both days are restricted, either matches (as Vixie cron). `off` is no
//! schedule.
//!
//! Across daylight-saving changes: a local time that does not exist that day (02:30 in spring) is
//! skipped; a local time that happens twice (02:30 in autumn) runs once, the first time.

use chrono::{DateTime, Datelike, Duration, LocalResult, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    text: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    any_day: bool,
    any_weekday: bool,
}

/// One field: the set of allowed values as bits, and whether it was `*`.
fn field(text: &str, min: u32, max: u32, name: &str) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("pas « {step} » invalide pour {name}"))?;
                (range, step)
            }
            None => (part, 1),
        };
        let number = |v: &str| {
            v.parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| format!("« {v} » hors de {min}-{max} pour {name}"))
        };
        let (from, to) = match range {
            "*" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None if step > 1 => (number(r)?, max),
                None => (number(r)?, number(r)?),
            },
        };
        if from > to {
            return Err(format!("intervalle « {range} » à l'envers pour {name}"));
        }
        for v in (from..=to).step_by(step as usize) {
            bits |= 1 << v;
        }
    }
    Ok((bits, text == "*"))
}

impl Schedule {
    /// Reads a schedule; `Ok(None)` for `off`. The error says which field is wrong, in French.
    pub fn parse(text: &str) -> Result<Option<Schedule>, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields[..] else {
            return Err(format!(
                "« {text} » : 5 champs attendus (minute heure jour mois jour-de-semaine), ou « off »"
            ));
        };
        let (minutes, _) = field(minute, 0, 59, "les minutes")?;
        let (hours, _) = field(hour, 0, 23, "les heures")?;
        let (days, any_day) = field(day, 1, 31, "le jour du mois")?;
        let (months, _) = field(month, 1, 12, "le mois")?;
        let (mut weekdays, any_weekday) = field(weekday, 0, 7, "le jour de la semaine")?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1;
        }
        Ok(Some(Schedule {
            text: text.to_owned(),
            minutes,
            hours,
            days,
            months,
            weekdays,
            any_day,
            any_weekday,
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn matches<T: Datelike + Timelike>(&self, t: &T) -> bool {
        let bit = |set: u64, v: u32| set & (1 << v) != 0;
        let day = bit(self.days, t.day());
        let weekday = bit(self.weekdays, t.weekday().num_days_from_sunday());
        let day_ok = match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => weekday,
            (false, true) => day,
            (false, false) => day || weekday,
        };
        bit(self.minutes, t.minute())
            && bit(self.hours, t.hour())
            && bit(self.months, t.month())
            && day_ok
    }

    /// The first instant strictly after `after` when the schedule fires in `tz`, within a year
    /// and a day (`None` for a schedule that never fires, such as 31 February).
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let start = after.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        (0..=(366 * 24 * 60))
            .map(|m| start + Duration::minutes(m))
            .find(|t| {
                let local = t.with_timezone(&tz);
                self.matches(&local)
                    && match tz.from_local_datetime(&local.naive_local()) {
                        // The second pass of an hour that happens twice is not run again.
                        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc) == *t,
                        _ => true,
                    }
            })
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Paris;

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn schedule(text: &str) -> Schedule {
        Schedule::parse(text).unwrap().unwrap()
    }

    #[test]
    fn the_seed_schedules_fire_on_working_hours_in_paris() {
        let sync = schedule("0 9-19 * * 1-5");
        // Friday 24 May 2024, 19:30 in Paris (UTC+2): next is Monday 9:00 Paris = 07:00 UTC.
        let next = sync.next_after(utc("2024-05-24T17:30:00Z"), Paris);
        assert_eq!(next, Some(utc("2024-05-27T07:00:00Z")));
        // In winter Paris is UTC+1.
        let next = sync.next_after(utc("2024-01-15T08:00:00Z"), Paris);
        assert_eq!(next, Some(utc("2024-01-15T09:00:00Z")));
        let stats = schedule("0 9 * * *");
        let next = stats.next_after(utc("2024-01-15T08:00:00Z"), Paris);
        assert_eq!(next, Some(utc("2024-01-16T08:00:00Z")));
    }

    #[test]
    fn next_is_strictly_after_the_given_instant() {
        let hourly = schedule("0 * * * *");
        let at = utc("2024-01-15T10:00:00Z");
        assert_eq!(
            hourly.next_after(at, Paris),
            Some(utc("2024-01-15T11:00:00Z"))
        );
        let during = utc("2024-01-15T10:00:30Z");
        assert_eq!(
            hourly.next_after(during, Paris),
            Some(utc("2024-01-15T11:00:00Z"))
        );
    }

    #[test]
    fn a_time_skipped_in_spring_does_not_run_and_one_repeated_in_autumn_runs_once() {
        let nightly = schedule("30 2 * * *");
        // 31 March 2024: Paris jumps from 02:00 to 03:00; 02:30 does not exist that day.
        let next = nightly.next_after(utc("2024-03-30T12:00:00Z"), Paris);
        assert_eq!(next, Some(utc("2024-04-01T00:30:00Z")));
        // 27 October 2024: 02:30 happens at 00:30 UTC, then again at 01:30 UTC.
        let first = nightly
            .next_after(utc("2024-10-26T12:00:00Z"), Paris)
            .unwrap();
        assert_eq!(first, utc("2024-10-27T00:30:00Z"));
        let second = nightly.next_after(first, Paris).unwrap();
        assert_eq!(
            second,
            utc("2024-10-28T01:30:00Z"),
            "not at 01:30 UTC the same day"
        );
        // Hourly jobs keep their rhythm across the change.
        let hourly = schedule("0 * * * *");
        let after = hourly.next_after(utc("2024-10-27T00:30:00Z"), Paris);
        assert_eq!(
            after,
            Some(utc("2024-10-27T02:00:00Z")),
            "01:00 UTC is 02:00 again, skipped"
        );
    }

    #[test]
    fn steps_lists_ranges_and_days() {
        let every_quarter = schedule("*/15 8-9 * * *");
        let next = every_quarter.next_after(utc("2024-01-15T07:14:00Z"), Paris);
        assert_eq!(next, Some(utc("2024-01-15T07:15:00Z")));
        // Day of month or day of week when both are given: the 1st, or any Sunday (7).
        let either = schedule("0 12 1 * 7");
        let next = either.next_after(utc("2024-01-02T00:00:00Z"), Paris);
        assert_eq!(next, Some(utc("2024-01-07T11:00:00Z")), "Sunday 7 January");
        assert_eq!(Schedule::parse("OFF").unwrap(), None);
        assert_eq!(
            schedule("0 0 31 2 *").next_after(utc("2024-01-01T00:00:00Z"), Paris),
            None
        );
    }

    #[test]
    fn a_start_with_a_step_runs_from_the_start_to_the_end_of_the_field() {
        let from_five = schedule("5/20 * * * *");
        for (after, next) in [
            ("2024-01-15T10:00:00Z", "2024-01-15T10:05:00Z"),
            ("2024-01-15T10:05:00Z", "2024-01-15T10:25:00Z"),
            ("2024-01-15T10:45:00Z", "2024-01-15T11:05:00Z"),
        ] {
            assert_eq!(from_five.next_after(utc(after), Paris), Some(utc(next)));
        }
    }

    #[test]
    fn values_given_twice_still_run() {
        // 12:00 Paris is in both ranges.
        let working = schedule("0 8-12,12-18 * * *");
        let next = working.next_after(utc("2024-01-15T10:30:00Z"), Paris);
        assert_eq!(next, Some(utc("2024-01-15T11:00:00Z")));
        // Sunday as both 0 and 7.
        let sundays = schedule("0 12 * * 0,7");
        let next = sundays.next_after(utc("2024-01-02T00:00:00Z"), Paris);
        assert_eq!(next, Some(utc("2024-01-07T11:00:00Z")));
    }

    #[test]
    fn a_yearly_schedule_is_found_a_year_ahead() {
        let new_year = schedule("0 9 1 1 *");
        let next = new_year.next_after(utc("2024-01-02T00:00:00Z"), Paris);
        assert_eq!(next, Some(utc("2025-01-01T08:00:00Z")));
    }

    #[test]
    fn wrong_schedules_say_what_is_wrong() {
        for (text, expected) in [
            ("0 9 * *", "5 champs attendus"),
            ("60 * * * *", "hors de 0-59 pour les minutes"),
            ("0 25 * * *", "les heures"),
            ("0 9 * * 1-8", "le jour de la semaine"),
            ("*/0 * * * *", "pas « 0 »"),
            ("0 19-9 * * *", "à l'envers"),
        ] {
            let error = Schedule::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
