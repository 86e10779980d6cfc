//! `stats.json`: the public statistics, in the seed's format for Frappe Charts (SPEC 5.2).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::{ExportError, ExportFile, Output};
use crate::domain::Status;
use crate::domain::text::title_case;
use crate::store::dossiers::{self, StatsRow};
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
    fn add(&mut self, ms: i64) {
        self.total_ms += i128::from(ms);
        self.count += 1;
    }

    /// The floor, in whole days, of the mean.
    fn mean_days(self) -> Option<i64> {
        (self.count > 0).then(|| (self.total_ms.div_euclid(self.count * MS_PER_DAY)) as i64)
    }
}

/// The statistics, accumulated from grouped counts and one dated dossier at a time, so that
/// memory does not grow with them.
pub struct StatsBuilder {
    now: DateTime<Utc>,
    time_zone: Tz,
    today: NaiveDate,
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

    /// The earliest creation time any window can count (a day early, whatever the time zone):
    /// older dossiers only count through `add_count` and, when accepted, their processing time.
    pub fn since(&self) -> DateTime<Utc> {
        let first_month = self.per_month.keys().next().copied().unwrap_or(self.today);
        first_month.and_time(NaiveTime::MIN).and_utc() - Days::new(1)
    }

    /// `count` dossiers of this status and nationality.
    pub fn add_count(
        &mut self,
        status: &str,
        nationalite: Option<&str>,
        count: i64,
    ) -> Result<(), StoreError> {
        let status: Status =
            status
                .parse()
                .map_err(|e: crate::domain::status::UnknownStatus| {
                    StoreError::Corrupt(e.to_string())
                })?;
        self.total += count as u64;
        *self.per_status.entry(status).or_default() += count;
        if let Some(country) = nationalite.map(str::trim).filter(|c| !c.is_empty()) {
            *self.per_country.entry(title_case(country)).or_default() += count;
        }
        Ok(())
    }

    /// The days, months and processing time of one dossier.
    pub fn add_times(&mut self, row: &StatsRow) {
        let created = row
            .created_at
            .map(|t| t.with_timezone(&self.time_zone).date_naive());
        if let Some(day) = created {
            if let Some(count) = self.per_day.get_mut(&day) {
                *count += 1;
            }
            if let Some(count) = self.per_month.get_mut(&month_of(day)) {
                *count += 1;
            }
        }
        if row.closed {
            let duration = match (row.initiated_at, row.processed_at) {
                (Some(start), Some(end)) => Some(end - start),
                _ => row
                    .created_at
                    .zip(row.updated_at)
                    .map(|(start, end)| end - start),
            };
            if let Some(duration) = duration {
                let ms = duration.num_milliseconds();
                self.processing.add(ms);
                if let Some(day) = created.filter(|d| *d >= self.today - Days::new(365)) {
                    self.processing_per_month
                        .entry(month_of(day))
                        .or_default()
                        .add(ms);
                }
            }
        }
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

fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
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
    let mut builder = StatsBuilder::new(now, time_zone);
    // The database groups the counts while the dated rows stream in on another connection:
    // the server and this process work at the same time.
    let (counts, ()) = tokio::try_join!(dossiers::count_by_status_and_nationality(db), async {
        let mut rows = dossiers::stats_rows(db, builder.since());
        while let Some(row) = rows.try_next().await? {
            builder.add_times(&row);
        }
        Ok(())
    })?;
    for (status, nationalite, count) in counts {
        builder.add_count(&status, nationalite.as_deref(), count)?;
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
