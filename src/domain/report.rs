//! Monthly reports by département (SPEC 10): the month in the service's time zone, the APT
//! length classes, the median processing time, and the figures of a report put together from
//! the counts the database groups (never from dossiers loaded one by one).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;

use super::Status;
use super::dates::{month_of, start_of_day};
use super::text::title_case;

/// How many nationalities a report ranks per APT length.
pub const TOP_NATIONALITIES: usize = 10;

/// A calendar month, from 2000 to 2999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    first_day: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("« {0} » n'est pas un mois : écrivez-le AAAA-MM, par exemple 2026-10")]
pub struct MonthError(pub String);

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        (2000..3000).contains(&year).then_some(())?;
        NaiveDate::from_ymd_opt(year, month, 1).map(|first_day| Month { first_day })
    }

    /// The month of a day.
    pub fn of(day: NaiveDate) -> Month {
        Month {
            first_day: month_of(day),
        }
    }

    /// The month a report is made for by default: the one before `now`'s, in `tz`.
    pub fn before(now: DateTime<Utc>, tz: Tz) -> Month {
        Month::of(now.with_timezone(&tz).date_naive()).previous()
    }

    pub fn year(self) -> i32 {
        self.first_day.year()
    }

    /// From 1 (January) to 12.
    pub fn number(self) -> u32 {
        self.first_day.month()
    }

    pub fn first_day(self) -> NaiveDate {
        self.first_day
    }

    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day
            .pred_opt()
            .expect("after the first day")
    }

    pub fn previous(self) -> Month {
        Month::of(self.first_day - Months::new(1))
    }

    pub fn next(self) -> Month {
        Month::of(self.first_day + Months::new(1))
    }

    /// `[start, end)`: from midnight of the first day to midnight of the next month's, in `tz`.
    pub fn bounds(self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            start_of_day(self.first_day, &tz),
            start_of_day(self.next().first_day, &tz),
        )
    }
}

impl FromStr for Month {
    type Err = MonthError;

    /// `YYYY-MM`.
    fn from_str(text: &str) -> Result<Month, MonthError> {
        let error = || MonthError(text.to_owned());
        let (year, month) = text.trim().split_once('-').ok_or_else(error)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(error());
        }
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year) || !digits(month) {
            return Err(error());
        }
        Month::new(
            year.parse().map_err(|_| error())?,
            month.parse().map_err(|_| error())?,
        )
        .ok_or_else(error)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.number())
    }
}

/// How long an accepted APT lasts, from *Date de début APT* to *Date de fin APT*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AptLength {
    /// The end is at most three calendar months after the start (exactly three included).
    UpToThreeMonths,
    MoreThanThreeMonths,
    /// A date missing or unreadable (its column is then empty), or the end before the start.
    Unknown,
}

impl AptLength {
    pub const ALL: [AptLength; 3] = [
        AptLength::UpToThreeMonths,
        AptLength::MoreThanThreeMonths,
        AptLength::Unknown,
    ];

    /// The class of an APT: the rule's one definition. Three months after 31 January is
    /// 30 April (the day is clamped to the end of the month), as PostgreSQL's `date + interval
    /// '3 months'` counts. The reports have the database compute it (`store::reports`), and a
    /// test on both engines holds that SQL to this function.
    pub fn of(start: Option<NaiveDate>, end: Option<NaiveDate>) -> AptLength {
        match (start, end) {
            (Some(start), Some(end)) if end >= start => {
                match start.checked_add_months(Months::new(3)) {
                    Some(limit) if end > limit => AptLength::MoreThanThreeMonths,
                    _ => AptLength::UpToThreeMonths,
                }
            }
            _ => AptLength::Unknown,
        }
    }

    /// The code the report's queries give the class.
    pub fn code(self) -> &'static str {
        match self {
            AptLength::UpToThreeMonths => "short",
            AptLength::MoreThanThreeMonths => "long",
            AptLength::Unknown => "unknown",
        }
    }

    pub fn from_code(code: &str) -> Option<AptLength> {
        AptLength::ALL.into_iter().find(|l| l.code() == code)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The median of the values a histogram (value → how many times) holds; with an even count,
/// the mean of the two middle values. `None` when it holds nothing.
pub fn median(histogram: &BTreeMap<i64, u64>) -> Option<f64> {
    let count: u64 = histogram.values().sum();
    if count == 0 {
        return None;
    }
    // The values at (0-based) ranks (count - 1) / 2 and count / 2.
    let (low_rank, high_rank) = ((count - 1) / 2, count / 2);
    let mut seen = 0;
    let mut low = None;
    for (&value, &n) in histogram {
        seen += n;
        if low.is_none() && seen > low_rank {
            low = Some(value);
        }
        if seen > high_rank {
            let low = low.unwrap_or(value);
            return Some((low as f64 + value as f64) / 2.0);
        }
    }
    None
}

/// A refused dossier, as a report lists it: its number and its démarche (for the DS link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefusedDossier {
    pub ds_id: i64,
    pub procedure_id: i64,
}

/// The figures of a report, for one département or several.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Accepted dossiers, per `AptLength` (in the order of `AptLength::ALL`).
    accepted: [u64; 3],
    pub refused: u64,
    pub without_continuation: u64,
    /// Per `AptLength`: accepted dossiers per nationality (title case).
    nationalities: [BTreeMap<String, u64>; 3],
    /// Whole days from deposit to decision → dossiers, for those whose deposit is known.
    pub processing_days: BTreeMap<i64, u64>,
    /// By number.
    pub refused_dossiers: Vec<RefusedDossier>,
}

impl Figures {
    pub fn accepted(&self, length: AptLength) -> u64 {
        self.accepted[length.index()]
    }

    pub fn accepted_total(&self) -> u64 {
        self.accepted.iter().sum()
    }

    /// Accepted, refused and sans suite.
    pub fn decided(&self) -> u64 {
        self.accepted_total() + self.refused + self.without_continuation
    }

    /// The median of whole days from deposit to decision.
    pub fn median_days(&self) -> Option<f64> {
        median(&self.processing_days)
    }

    /// The most frequent nationalities among the accepted of a length, most frequent first,
    /// ties in alphabetical order; at most `TOP_NATIONALITIES`.
    pub fn top_nationalities(&self, length: AptLength) -> Vec<(&str, u64)> {
        let mut ranked: Vec<(&str, u64)> = self.nationalities[length.index()]
            .iter()
            .map(|(name, n)| (name.as_str(), *n))
            .collect();
        ranked.sort_by(|(a, na), (b, nb)| nb.cmp(na).then_with(|| a.cmp(b)));
        ranked.truncate(TOP_NATIONALITIES);
        ranked
    }

    fn add(&mut self, other: &Figures) {
        for length in AptLength::ALL {
            let i = length.index();
            self.accepted[i] += other.accepted[i];
            for (name, n) in &other.nationalities[i] {
                *self.nationalities[i].entry(name.clone()).or_default() += n;
            }
        }
        self.refused += other.refused;
        self.without_continuation += other.without_continuation;
        for (days, n) in &other.processing_days {
            *self.processing_days.entry(*days).or_default() += n;
        }
        self.refused_dossiers.extend(&other.refused_dossiers);
        self.refused_dossiers.sort_unstable();
    }
}

/// One row of a report: a département (`None` for dossiers without one) and its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentFigures {
    pub department: Option<String>,
    pub figures: Figures,
}

/// A month's report: one row per département, by name, the dossiers without one last, and the
/// total over those rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub month: Month,
    pub departments: Vec<DepartmentFigures>,
    pub total: Figures,
}

impl Report {
    /// The row of a département (`None`: the dossiers without one).
    pub fn department(&self, department: Option<&str>) -> Option<&DepartmentFigures> {
        self.departments
            .iter()
            .find(|d| d.department.as_deref() == department)
    }

    /// The same report for one département only, its total being that département's figures.
    pub fn only(&self, department: Option<&str>) -> Option<Report> {
        let row = self.department(department)?.clone();
        Some(Report {
            month: self.month,
            total: row.figures.clone(),
            departments: vec![row],
        })
    }
}

/// Puts a report together from grouped counts; départements given at the start have a row
/// even when nothing was decided there.
pub struct ReportBuilder {
    month: Month,
    rows: HashMap<Option<String>, Figures>,
}

impl ReportBuilder {
    pub fn new(month: Month, departments: impl IntoIterator<Item = String>) -> ReportBuilder {
        ReportBuilder {
            month,
            rows: departments
                .into_iter()
                .map(|d| (Some(d), Figures::default()))
                .collect(),
        }
    }

    fn row(&mut self, department: Option<&str>) -> &mut Figures {
        self.rows.entry(department.map(str::to_owned)).or_default()
    }

    /// `count` dossiers decided with this status; `length` counts for accepted ones only.
    pub fn add_decisions(
        &mut self,
        department: Option<&str>,
        status: Status,
        length: AptLength,
        count: u64,
    ) {
        let row = self.row(department);
        match status {
            Status::Closed => row.accepted[length.index()] += count,
            Status::Refused => row.refused += count,
            Status::WithoutContinuation => row.without_continuation += count,
            Status::Draft | Status::Initiated | Status::Received => {}
        }
    }

    /// `count` accepted dossiers of this length and nationality (as typed on DS: spellings that
    /// differ only by case and spaces count together).
    pub fn add_nationality(
        &mut self,
        department: Option<&str>,
        length: AptLength,
        nationality: &str,
        count: u64,
    ) {
        let name = title_case(nationality.trim());
        if name.is_empty() {
            return;
        }
        *self.row(department).nationalities[length.index()]
            .entry(name)
            .or_default() += count;
    }

    /// `count` dossiers decided `days` whole days after their deposit.
    pub fn add_processing_days(&mut self, department: Option<&str>, days: i64, count: u64) {
        *self
            .row(department)
            .processing_days
            .entry(days)
            .or_default() += count;
    }

    pub fn add_refused(&mut self, department: Option<&str>, dossier: RefusedDossier) {
        self.row(department).refused_dossiers.push(dossier);
    }

    pub fn finish(self) -> Report {
        let mut departments: Vec<DepartmentFigures> = self
            .rows
            .into_iter()
            .map(|(department, mut figures)| {
                figures.refused_dossiers.sort_unstable();
                DepartmentFigures {
                    department,
                    figures,
                }
            })
            .collect();
        departments.sort_by(|a, b| match (&a.department, &b.department) {
            (Some(a), Some(b)) => a.cmp(b),
            (a, b) => a.is_none().cmp(&b.is_none()),
        });
        let mut total = Figures::default();
        for row in &departments {
            total.add(&row.figures);
        }
        Report {
            month: self.month,
            departments,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn month(text: &str) -> Month {
        text.parse().unwrap()
    }

    #[test]
    fn months_are_read_as_yyyy_mm_only() {
        assert_eq!(month("2026-10").to_string(), "2026-10");
        assert_eq!(month(" 2026-01 ").number(), 1);
        assert_eq!(
            month("2026-10").first_day(),
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
        );
        for wrong in [
            "2026-13", "2026-00", "2026-1", "26-10", "2026/10", "octobre", "", "+026-10",
            "1999-12",
            // Rust's integer parsing takes a sign: the month must be digits too.
            "2026-+1",
        ] {
            let error = wrong.parse::<Month>().unwrap_err();
            assert!(error.to_string().contains("AAAA-MM"), "{wrong}: {error}");
        }
    }

    #[test]
    fn the_default_month_is_the_previous_one_in_local_time() {
        let paris = chrono_tz::Europe::Paris;
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Already 1 November in Paris, still 31 October in UTC.
        assert_eq!(
            Month::before(at("2026-10-31T23:30:00Z"), paris),
            month("2026-10")
        );
        assert_eq!(
            Month::before(at("2026-10-31T22:30:00Z"), paris),
            month("2026-09")
        );
        assert_eq!(
            Month::before(at("2027-01-15T12:00:00Z"), paris),
            month("2026-12")
        );
        assert_eq!(month("2026-12").next(), month("2027-01"));
        assert_eq!(month("2024-02").last_day(), date(2024, 2, 29).unwrap());
    }

    #[test]
    fn a_month_runs_from_local_midnight_to_local_midnight() {
        let paris = chrono_tz::Europe::Paris;
        let (start, end) = month("2026-10").bounds(paris);
        // Summer time on 1 October, winter time on 1 November.
        assert_eq!(start.to_rfc3339(), "2026-09-30T22:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-10-31T23:00:00+00:00");
        let (start, _) = month("2026-10").bounds(chrono_tz::UTC);
        assert_eq!(start.to_rfc3339(), "2026-10-01T00:00:00+00:00");
    }

    #[test]
    fn three_months_are_calendar_months_clamped_to_the_end_of_the_month() {
        use AptLength::*;
        let of = |start, end| AptLength::of(start, end);
        assert_eq!(of(date(2026, 1, 15), date(2026, 4, 15)), UpToThreeMonths);
        assert_eq!(
            of(date(2026, 1, 15), date(2026, 4, 16)),
            MoreThanThreeMonths
        );
        assert_eq!(of(date(2026, 1, 31), date(2026, 4, 30)), UpToThreeMonths);
        assert_eq!(of(date(2026, 1, 31), date(2026, 5, 1)), MoreThanThreeMonths);
        assert_eq!(of(date(2025, 11, 30), date(2026, 2, 28)), UpToThreeMonths);
        assert_eq!(
            of(date(2025, 11, 30), date(2026, 3, 1)),
            MoreThanThreeMonths
        );
        assert_eq!(of(date(2026, 3, 1), date(2026, 3, 1)), UpToThreeMonths);
        assert_eq!(of(date(2026, 3, 2), date(2026, 3, 1)), Unknown);
        assert_eq!(of(None, date(2026, 3, 1)), Unknown);
        assert_eq!(of(date(2026, 3, 1), None), Unknown);
        for length in AptLength::ALL {
            assert_eq!(AptLength::from_code(length.code()), Some(length));
        }
    }

    #[test]
    fn the_median_comes_from_the_histogram() {
        let histogram = |pairs: &[(i64, u64)]| pairs.iter().copied().collect::<BTreeMap<_, _>>();
        assert_eq!(median(&histogram(&[])), None);
        assert_eq!(median(&histogram(&[(4, 0)])), None);
        assert_eq!(median(&histogram(&[(7, 1)])), Some(7.0));
        assert_eq!(median(&histogram(&[(1, 1), (4, 1)])), Some(2.5));
        assert_eq!(median(&histogram(&[(1, 2), (4, 2)])), Some(2.5));
        assert_eq!(median(&histogram(&[(1, 1), (2, 1), (30, 1)])), Some(2.0));
        assert_eq!(median(&histogram(&[(0, 3), (10, 1)])), Some(0.0));
        assert_eq!(median(&histogram(&[(3, 2), (8, 1), (9, 1)])), Some(5.5));
    }

    #[test]
    fn a_report_totals_its_rows_and_ranks_nationalities() {
        let mut builder = ReportBuilder::new(month("2026-10"), ["92 - Hauts-de-Seine".to_owned()]);
        let paris = Some("75 - Paris");
        builder.add_decisions(paris, Status::Closed, AptLength::UpToThreeMonths, 3);
        builder.add_decisions(None, Status::Closed, AptLength::Unknown, 1);
        builder.add_decisions(paris, Status::Refused, AptLength::Unknown, 2);
        builder.add_decisions(
            paris,
            Status::WithoutContinuation,
            AptLength::MoreThanThreeMonths,
            1,
        );
        builder.add_nationality(paris, AptLength::UpToThreeMonths, "MAROC", 1);
        builder.add_nationality(paris, AptLength::UpToThreeMonths, " maroc ", 1);
        builder.add_nationality(paris, AptLength::UpToThreeMonths, "ALGERIE", 1);
        builder.add_nationality(None, AptLength::UpToThreeMonths, "ALGERIE", 1);
        builder.add_processing_days(paris, 3, 2);
        builder.add_processing_days(None, 10, 1);
        builder.add_refused(
            paris,
            RefusedDossier {
                ds_id: 9,
                procedure_id: 1,
            },
        );
        builder.add_refused(
            paris,
            RefusedDossier {
                ds_id: 5,
                procedure_id: 1,
            },
        );
        let report = builder.finish();
        let names: Vec<_> = report
            .departments
            .iter()
            .map(|d| d.department.as_deref())
            .collect();
        assert_eq!(
            names,
            [Some("75 - Paris"), Some("92 - Hauts-de-Seine"), None]
        );
        let paris = &report.departments[0].figures;
        assert_eq!(paris.accepted_total(), 3);
        assert_eq!(paris.decided(), 6);
        assert_eq!(
            paris.top_nationalities(AptLength::UpToThreeMonths),
            [("Maroc", 2), ("Algerie", 1)]
        );
        assert_eq!(
            paris
                .refused_dossiers
                .iter()
                .map(|d| d.ds_id)
                .collect::<Vec<_>>(),
            [5, 9]
        );
        assert_eq!(report.departments[1].figures, Figures::default());
        assert_eq!(report.total.decided(), 7);
        assert_eq!(report.total.median_days(), Some(3.0));
        assert_eq!(
            report.total.top_nationalities(AptLength::UpToThreeMonths),
            [("Algerie", 2), ("Maroc", 2)]
        );
        let only = report.only(Some("75 - Paris")).unwrap();
        assert_eq!(only.total, *paris);
        assert!(report.only(Some("13 - Bouches-du-Rhône")).is_none());
    }

    #[test]
    fn only_ten_nationalities_are_ranked() {
        let mut builder = ReportBuilder::new(month("2026-10"), []);
        for (i, name) in ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"]
            .iter()
            .enumerate()
        {
            builder.add_nationality(None, AptLength::Unknown, name, 20 - i as u64 / 2);
        }
        let report = builder.finish();
        let top = report.total.top_nationalities(AptLength::Unknown);
        assert_eq!(top.len(), 10);
        assert_eq!(top[0], ("A", 20));
        assert_eq!(top[9], ("J", 16));
    }
}
