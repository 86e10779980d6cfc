//! Reading the dates and timestamps DS sends, and what derives from them.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

/// A champ date: `YYYY-MM-DD` (DS's format) or `DD/MM/YYYY` (typed by hand in old dossiers).
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    let value = value.trim();
    parse_iso_date(value).or_else(|| {
        shaped(value, b"00/00/0000")
            .then(|| NaiveDate::parse_from_str(value, "%d/%m/%Y").ok())
            .flatten()
    })
}

/// Exactly `YYYY-MM-DD`, a real calendar date. Read by hand: the public API parses one per
/// request.
pub fn parse_iso_date(value: &str) -> Option<NaiveDate> {
    if !shaped(value, b"0000-00-00") {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        value.as_bytes()[range]
            .iter()
            .fold(0u32, |n, digit| n * 10 + u32::from(digit - b'0'))
    };
    NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10))
}

/// Whether `value` has the shape of `pattern`, where `0` stands for any ASCII digit: chrono
/// alone would accept signs, short fields and other years than four digits.
fn shaped(value: &str, pattern: &[u8]) -> bool {
    value.len() == pattern.len()
        && value.bytes().zip(pattern).all(|(c, p)| match p {
            b'0' => c.is_ascii_digit(),
            _ => c == *p,
        })
}

/// A DS timestamp: RFC 3339 with any offset (v1 `…Z`, v2 `…+01:00`), stored in UTC.
pub fn parse_timestamp(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An APT has expired when its end date is unknown or before `today`.
pub fn has_expired(date_de_fin_apt: Option<NaiveDate>, today: NaiveDate) -> bool {
    date_de_fin_apt.is_none_or(|end| end < today)
}

/// The first instant of `day` in `time_zone`: where its local midnight falls, or, when clocks
/// skip midnight (or the whole day), the first instant whose local date is `day` or later.
/// Counting the instants between two of these is counting by local day, since a local date
/// never goes back in time.
pub fn start_of_day<Tz: TimeZone>(day: NaiveDate, time_zone: &Tz) -> DateTime<Utc> {
    let local_date = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .expect("within chrono's range")
            .with_timezone(time_zone)
            .date_naive()
    };
    // UTC offsets stay within a day: the answer lies between these bounds. Offsets and clock
    // changes fall on whole seconds, so a search on seconds finds it exactly.
    let midnight = day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp();
    let (mut low, mut high) = (midnight - 86_400, midnight + 86_400);
    while low < high {
        let middle = low + (high - low) / 2;
        if local_date(middle) >= day {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    DateTime::from_timestamp(low, 0).expect("within chrono's range")
}

/// The first day of `day`'s month.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn reads_iso_and_french_dates() {
        assert_eq!(parse_date("2018-03-27"), Some(date(2018, 3, 27)));
        assert_eq!(parse_date(" 27/03/2018 "), Some(date(2018, 3, 27)));
        assert_eq!(parse_date("2024-02-29"), Some(date(2024, 2, 29)));
    }

    #[test]
    fn refuses_impossible_or_foreign_dates() {
        for bad in [
            "2023-02-30",
            "31/04/2020",
            "2018-3-27",
            "27-03-2018",
            "03/27/2018",
            "05 mars 2024",
            "",
            "20180-03-27",
            "+1978-12-2",
            "1978-12-2 ",
            "1/03/2018",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?} should not be a date");
        }
    }

    #[test]
    fn reads_timestamps_of_both_apis_into_utc() {
        let v1 = parse_timestamp("2018-03-27T08:49:51.491Z").unwrap();
        assert_eq!(v1.to_rfc3339(), "2018-03-27T08:49:51.491+00:00");
        let v2 = parse_timestamp("2024-03-05T14:12:31+01:00").unwrap();
        assert_eq!(v2.to_rfc3339(), "2024-03-05T13:12:31+00:00");
        assert_eq!(parse_timestamp("2024-03-05"), None);
    }

    #[test]
    fn an_apt_expires_the_day_after_its_end_date() {
        let today = date(2024, 6, 15);
        assert!(!has_expired(Some(date(2024, 6, 15)), today));
        assert!(!has_expired(Some(date(2025, 1, 1)), today));
        assert!(has_expired(Some(date(2024, 6, 14)), today));
        assert!(has_expired(None, today));
    }

    fn instant(text: &str) -> DateTime<Utc> {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn days_start_at_local_midnight_whatever_the_clock_change() {
        use chrono_tz::{America::Santiago, Europe::Paris, Pacific::Apia};
        let paris = |d| start_of_day(d, &Paris);
        assert_eq!(paris(date(2024, 3, 31)), instant("2024-03-30T23:00:00Z"));
        assert_eq!(paris(date(2024, 4, 1)), instant("2024-03-31T22:00:00Z"));
        assert_eq!(paris(date(2024, 10, 27)), instant("2024-10-26T22:00:00Z"));
        assert_eq!(paris(date(2024, 10, 28)), instant("2024-10-27T23:00:00Z"));
        assert_eq!(
            start_of_day(date(2024, 1, 1), &Utc),
            instant("2024-01-01T00:00:00Z")
        );
        // Santiago skips from 24:00 to 01:00: 8 September 2024 starts at 01:00, 04:00 UTC.
        assert_eq!(
            start_of_day(date(2024, 9, 8), &Santiago),
            instant("2024-09-08T04:00:00Z")
        );
        // Samoa skipped 30 December 2011: it starts where 31 December does.
        assert_eq!(
            start_of_day(date(2011, 12, 30), &Apia),
            start_of_day(date(2011, 12, 31), &Apia)
        );
        assert_eq!(
            start_of_day(date(2011, 12, 31), &Apia),
            instant("2011-12-30T10:00:00Z")
        );
    }

    #[test]
    fn months_start_on_their_first_day() {
        assert_eq!(month_of(date(2024, 2, 29)), date(2024, 2, 1));
        assert_eq!(month_of(date(2024, 3, 1)), date(2024, 3, 1));
    }
}
