//! `stats.json`: the public statistics, in the seed's format for Frappe Charts (SPEC 5.2).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{ExportError, ExportFile, Output};
use crate::domain::dates::{month_of, start_of_day};
use crate::domain::text::title_case;
use crate::domain::{Scope, Status};
use crate::store::dossiers::{self, ProcessingSum, StatusCount};
use crate::store::{Db, StoreError};

pub const FILE_NAME: &str = "stats.json";

const MS_PER_DAY: i128 = 86_400_000;

/// The file's content; field names and order are the seed's (`data_num_by_contry` included:
/// the public pages read it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsFile {
    pub data: Summary,
    pub data_num_dossiers_day: Chart,
    pub data_num_dossiers_month: Chart,
    pub data_num_by_status: Chart,
    pub data_num_by_contry: Chart,
    pub data_time_to_process_by_month: Chart,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub last_update: String,
    pub time_to_process: i64,
    pub total_dossiers_closed: u64,
    pub total_dossiers: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub labels: Vec<String>,
    pub datasets: Vec<Dataset>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    pub values: Vec<i64>,
}

fn chart(name: &str, points: Vec<(String, i64)>) -> Chart {
    let (labels, values) = points.into_iter().unzip();
    Chart {
        labels,
        datasets: vec![Dataset {
            name: name.to_owned(),
            values,
        }],
    }
}

/// Sums of processing times, in milliseconds.
#[derive(Default, Clone, Copy)]
struct Durations {
    total_ms: i128,
    count: i128,
}

impl Durations {
    fn add(&mut self, sum: ProcessingSum) {
        self.total_ms += i128::from(sum.total_ms);
        self.count += i128::from(sum.timed);
    }

    /// The floor, in whole days, of the mean.
    fn mean_days(self) -> Option<i64> {
        (self.count > 0).then(|| (self.total_ms.div_euclid(self.count * MS_PER_DAY)) as i64)
    }
}

/// The statistics, accumulated from the counts and sums the database computes.
pub struct StatsBuilder {
    now: DateTime<Utc>,
    time_zone: Tz,
    today: NaiveDate,
    year_ago: NaiveDate,
    per_day: BTreeMap<NaiveDate, i64>,
    per_month: BTreeMap<NaiveDate, i64>,
    per_status: HashMap<Status, i64>,
    per_country: HashMap<String, i64>,
    processing: Durations,
    processing_per_month: BTreeMap<NaiveDate, Durations>,
    total: u64,
}

impl StatsBuilder {
    /// Days and months are calendar days and months in `time_zone`: the per-day window is the
    /// 32 days from today − 31 days to today, the per-month one starts with the month of
    /// today − 365 days.
    pub fn new(now: DateTime<Utc>, time_zone: Tz) -> StatsBuilder {
        let today = now.with_timezone(&time_zone).date_naive();
        let first_day = today - Days::new(31);
        let year_ago = today - Days::new(365);
        StatsBuilder {
            now,
            time_zone,
            today,
            year_ago,
            per_day: day_range(first_day, today).map(|d| (d, 0)).collect(),
            per_month: month_range(month_of(year_ago), month_of(today))
                .map(|m| (m, 0))
                .collect(),
            per_status: HashMap::new(),
            per_country: HashMap::new(),
            processing: Durations::default(),
            processing_per_month: BTreeMap::new(),
            total: 0,
        }
    }

    /// The dossiers of one status and nationality.
    fn add_count(&mut self, count: &StatusCount) {
        self.total += count.dossiers as u64;
        *self.per_status.entry(count.status).or_default() += count.dossiers;
        if let Some(country) = count
            .nationalite
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            *self.per_country.entry(title_case(country)).or_default() += count.dossiers;
        }
        if count.status == Status::Closed {
            self.processing.add(count.processing);
        }
    }

    /// The first local day of each interval counted per day: the window's days, then the day
    /// after it, which ends the last one.
    fn day_intervals(&self) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = self.per_day.keys().copied().collect();
        days.push(self.today + Days::new(1));
        days
    }

    /// How many dossiers were created on each day of `day_intervals`.
    fn add_day_counts(&mut self, counts: &[i64]) {
        for (n, count) in self.per_day.values_mut().zip(counts) {
            *n += count;
        }
    }

    /// The first local day of each interval counted per month: the window's months, the first
    /// one cut at today − 365 days (the processing times by month start there), then the month
    /// after the window, which ends the last one.
    fn month_intervals(&self) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = Vec::with_capacity(self.per_month.len() + 2);
        for month in self.per_month.keys() {
            days.push(*month);
            if *month < self.year_ago && month_of(self.year_ago) == *month {
                days.push(self.year_ago);
            }
        }
        days.push(self.end_of_months());
        days
    }

    /// The first day after the per-month window.
    fn end_of_months(&self) -> NaiveDate {
        month_of(self.today)
            .checked_add_months(chrono::Months::new(1))
            .expect("a month after today")
    }

    /// How many dossiers were created in each interval of `month_intervals`, and the processing
    /// times of the accepted ones.
    fn add_month_counts(&mut self, counts: &[i64], processing: &[ProcessingSum]) {
        let starts = self.month_intervals();
        for (i, start) in starts.iter().take(starts.len() - 1).enumerate() {
            let month = month_of(*start);
            if let (Some(n), Some(count)) = (self.per_month.get_mut(&month), counts.get(i)) {
                *n += count;
            }
            match processing.get(i) {
                Some(sum) if sum.timed > 0 && *start >= self.year_ago => {
                    self.processing_per_month
                        .entry(month)
                        .or_default()
                        .add(*sum);
                }
                _ => {}
            }
        }
    }

    /// The processing time of an accepted dossier created after the per-month window (with a
    /// `--now` in the past): its month has no interval of its own.
    fn add_later_processing(&mut self, created_at: DateTime<Utc>, ms: i64) {
        let month = month_of(created_at.with_timezone(&self.time_zone).date_naive());
        self.processing_per_month
            .entry(month)
            .or_default()
            .add(ProcessingSum {
                timed: 1,
                total_ms: ms,
            });
    }

    pub fn finish(self) -> StatsFile {
        let mut countries: Vec<(String, i64)> = self.per_country.into_iter().collect();
        countries.sort_by(|(a, na), (b, nb)| nb.cmp(na).then_with(|| a.cmp(b)));
        let closed = self.per_status.get(&Status::Closed).copied().unwrap_or(0);
        StatsFile {
            data: Summary {
                last_update: self.now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                time_to_process: self.processing.mean_days().unwrap_or(0),
                total_dossiers_closed: closed as u64,
                total_dossiers: self.total,
            },
            data_num_dossiers_day: chart(
                "Nombre de dossiers par jour",
                self.per_day
                    .into_iter()
                    .map(|(day, n)| (day.format("%d/%m/%y").to_string(), n))
                    .collect(),
            ),
            data_num_dossiers_month: chart(
                "Nombre de dossiers par mois",
                self.per_month
                    .into_iter()
                    .map(|(month, n)| (month.format("%m/%y").to_string(), n))
                    .collect(),
            ),
            data_num_by_status: chart(
                "Nombre de dossiers par statut",
                Status::ALL
                    .iter()
                    .map(|s| {
                        let n = self.per_status.get(s).copied().unwrap_or(0);
                        (s.label().to_owned(), n)
                    })
                    .collect(),
            ),
            data_num_by_contry: chart("Nombre de dossiers par pays", countries),
            data_time_to_process_by_month: chart(
                "Temps de traitement moyen par mois (en jours)",
                self.processing_per_month
                    .into_iter()
                    .filter_map(|(month, durations)| {
                        let days = durations.mean_days()?;
                        Some((format!("{} - {days} jour(s)", month.format("%m/%Y")), days))
                    })
                    .collect(),
            ),
        }
    }
}

fn day_range(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    first.iter_days().take_while(move |d| *d <= last)
}

fn month_range(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    std::iter::successors(Some(first), |m| {
        m.checked_add_months(chrono::Months::new(1))
    })
    .take_while(move |m| *m <= last)
}

/// Computes the statistics over every dossier not marked deleted.
pub async fn compute(db: &Db, now: DateTime<Utc>, time_zone: Tz) -> Result<StatsFile, StoreError> {
    compute_within(db, &Scope::National, now, time_zone).await
}

/// Computes the statistics over the dossiers of `scope` not marked deleted (the admin's page
/// for an agent limited to départements). The database counts: by status and nationality, and
/// by intervals of creation time whose bounds are the local midnights of the windows' days and
/// months; each query on a connection of its own.
pub async fn compute_within(
    db: &Db,
    scope: &Scope,
    now: DateTime<Utc>,
    time_zone: Tz,
) -> Result<StatsFile, StoreError> {
    let mut builder = StatsBuilder::new(now, time_zone);
    let bounds = |days: Vec<NaiveDate>| -> Vec<DateTime<Utc>> {
        days.into_iter()
            .map(|day| start_of_day(day, &time_zone))
            .collect()
    };
    let day_bounds = bounds(builder.day_intervals());
    let month_bounds = bounds(builder.month_intervals());
    let after_months = start_of_day(builder.end_of_months(), &time_zone);
    let (counts, per_day, per_month, processing, later) = tokio::try_join!(
        dossiers::count_by_status_and_nationality(db, scope),
        dossiers::count_created_between(db, scope, &day_bounds),
        dossiers::count_created_between(db, scope, &month_bounds),
        dossiers::closed_processing_between(db, scope, &month_bounds),
        dossiers::closed_processing_since(db, scope, after_months),
    )?;
    for count in &counts {
        builder.add_count(count);
    }
    builder.add_day_counts(&per_day);
    builder.add_month_counts(&per_month, &processing);
    for (created_at, ms) in later {
        builder.add_later_processing(created_at, ms);
    }
    Ok(builder.finish())
}

/// Computes and writes `stats.json`.
pub async fn export(
    db: &Db,
    output: &Output,
    now: DateTime<Utc>,
    time_zone: Tz,
) -> Result<StatsFile, ExportError> {
    let stats = compute(db, now, time_zone).await?;
    let mut file = ExportFile::create(output)?;
    serde_json::to_writer(&mut file, &stats).map_err(|e| file.error(e.into()))?;
    file.commit()?;
    Ok(stats)
}
