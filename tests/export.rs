//! The two exports on both engines, with dossiers whose expected output is read in the test.

mod common;

use std::path::Path;

use chrono::NaiveDate;
use chrono_tz::Europe::Paris;
use common::{TestDb, at, dossier};
use serde_json::{Value, json};
use wif::domain::{ProcedureKind, Status};
use wif::export::stats::StatsFile;
use wif::export::{Output, stats, validity_check};
use wif::store::{dossiers, procedures};

fn date(text: &str) -> Option<NaiveDate> {
    Some(text.parse().unwrap())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn export_validity(t: &TestDb, now: &str) -> Value {
    let path = t.dir.path().join("media/validity_check.json");
    let today = at(now).with_timezone(&Paris).date_naive();
    validity_check::export(&t.db, &Output::File(path.clone()), today)
        .await
        .unwrap();
    read_json(&path)
}

async fn export_stats(t: &TestDb, now: &str) -> StatsFile {
    let path = t.dir.path().join("media/stats.json");
    let written = stats::export(&t.db, &Output::File(path.clone()), at(now), Paris)
        .await
        .unwrap();
    let read: StatsFile = serde_json::from_value(read_json(&path)).unwrap();
    assert_eq!(read, written);
    read
}

/// The labels and values of a chart, as pairs.
fn points(chart: &stats::Chart) -> Vec<(String, i64)> {
    assert_eq!(chart.datasets.len(), 1);
    chart
        .labels
        .iter()
        .cloned()
        .zip(chart.datasets[0].values.iter().copied())
        .collect()
}

fn value_of(chart: &stats::Chart, label: &str) -> i64 {
    points(chart)
        .into_iter()
        .find(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("no label {label}"))
        .1
}

both_engines!(
    validity_check_lists_accepted_dossiers_anonymised,
    validity_check_tells_introductions_apart,
    expiry_is_judged_in_the_configured_time_zone,
    an_empty_database_gives_empty_exports,
    days_are_counted_in_paris_time,
    windows_include_their_first_day_and_month,
    statuses_countries_and_totals,
    processing_time_is_the_floor_of_the_mean,
    readers_never_see_a_partial_file,
    stats_json_is_pinned_around_midnights_and_clock_changes,
);

async fn validity_check_lists_accepted_dossiers_anonymised(t: &TestDb) {
    let mut emma = dossier(44950, Status::Closed);
    emma.siret = Some("52222222222222".into());
    emma.prenom = Some(" Emma Louise    ".into());
    emma.nom = Some("Zoë".into());
    emma.email = Some("emma@example.org".into());
    emma.date_de_naissance = date("1978-12-20");
    emma.date_de_debut_apt = date("2018-03-27");
    emma.date_de_fin_apt = date("2018-05-10");
    let mut li = dossier(7, Status::Closed);
    li.prenom = Some("小龙".into());
    li.date_de_fin_apt = date("2030-01-31");
    li.champs
        .insert("telephone".into(), json!("06 12 34 56 78"));
    let refused = dossier(3, Status::Refused);
    let received = dossier(5, Status::Received);
    dossiers::upsert(&t.db, &[emma, li, refused, received])
        .await
        .unwrap();

    let exported = export_validity(t, "2024-06-01T12:00:00Z").await;
    assert_eq!(
        exported,
        json!([
            {"ds_id": 7, "type": "authorization", "siret": null, "prenom": "*龙", "nom": "",
             "date_de_naissance": null, "has_expired": false, "date_de_debut_apt": null,
             "date_de_fin_apt": "2030-01-31"},
            {"ds_id": 44950, "type": "authorization", "siret": "52222222222222",
             "prenom": "*m** ******", "nom": "*o*", "date_de_naissance": "1978-12-20",
             "has_expired": true, "date_de_debut_apt": "2018-03-27", "date_de_fin_apt": "2018-05-10"},
        ])
    );
    let text = exported.to_string();
    assert!(!text.contains("example.org") && !text.contains("06 12"));
}

async fn validity_check_tells_introductions_apart(t: &TestDb) {
    procedures::set_kind(&t.db, 2, ProcedureKind::Introduction)
        .await
        .unwrap();
    let mut intro = dossier(20, Status::Closed);
    intro.procedure_id = 2;
    intro.champs.insert("type_de_contrat".into(), json!("CDD"));
    intro
        .champs
        .insert("emploi_occupe".into(), json!("Serveuse"));
    intro.champs.insert("nombre_dheures".into(), json!("20"));
    intro.champs.insert("e_mail".into(), json!("x@example.org"));
    let apt = dossier(10, Status::Closed);
    dossiers::upsert(&t.db, &[intro, apt]).await.unwrap();

    let exported = export_validity(t, "2024-06-01T12:00:00Z").await;
    assert_eq!(exported[0]["type"], "authorization");
    assert!(exported[0].get("champs").is_none());
    assert_eq!(exported[1]["type"], "introduction");
    assert_eq!(
        exported[1]["champs"],
        json!([
            {"value": "CDD", "type_de_champ": {"libelle": "Type de contrat"}},
            {"value": "Serveuse", "type_de_champ": {"libelle": "Emploi occupé"}},
            {"value": "20", "type_de_champ": {"libelle": "Nombre d'heures"}},
        ])
    );
}

async fn expiry_is_judged_in_the_configured_time_zone(t: &TestDb) {
    let mut d = dossier(1, Status::Closed);
    d.date_de_fin_apt = date("2024-05-10");
    dossiers::upsert(&t.db, &[d]).await.unwrap();
    // 22:30 UTC on 10 May is already 11 May in Paris: the APT has expired.
    assert_eq!(
        export_validity(t, "2024-05-10T22:30:00Z").await[0]["has_expired"],
        true
    );
    assert_eq!(
        export_validity(t, "2024-05-10T21:30:00Z").await[0]["has_expired"],
        false
    );
}

async fn an_empty_database_gives_empty_exports(t: &TestDb) {
    assert_eq!(export_validity(t, "2024-06-01T12:00:00Z").await, json!([]));
    let s = export_stats(t, "2024-06-01T12:00:00Z").await;
    assert_eq!(s.data.total_dossiers, 0);
    assert_eq!(s.data.total_dossiers_closed, 0);
    assert_eq!(s.data.time_to_process, 0);
    assert_eq!(s.data_num_dossiers_day.datasets[0].values, vec![0; 32]);
    assert_eq!(s.data_num_dossiers_month.datasets[0].values, vec![0; 13]);
    assert_eq!(s.data_num_by_status.datasets[0].values, vec![0; 6]);
    assert!(s.data_num_by_contry.labels.is_empty());
    assert!(s.data_time_to_process_by_month.labels.is_empty());
}

async fn days_are_counted_in_paris_time(t: &TestDb) {
    let created = [
        (1, "2024-03-31T23:30:00Z"), // 01:30 on 1 April in Paris (summer time)
        (2, "2024-03-31T00:30:00Z"), // 01:30 on 31 March, just before the change to summer time
        (3, "2024-03-31T01:30:00Z"), // 03:30 on 31 March, just after it
        (4, "2024-03-30T23:30:00Z"), // 00:30 on 31 March (winter time)
        (5, "2024-03-30T22:59:00Z"), // 23:59 on 30 March
    ];
    let list = common::created(Status::Initiated, &created);
    dossiers::upsert(&t.db, &list).await.unwrap();

    let s = export_stats(t, "2024-04-20T12:00:00+02:00").await;
    let days = &s.data_num_dossiers_day;
    assert_eq!(value_of(days, "01/04/24"), 1);
    assert_eq!(value_of(days, "31/03/24"), 3);
    assert_eq!(value_of(days, "30/03/24"), 1);
    assert_eq!(value_of(&s.data_num_dossiers_month, "04/24"), 1);
    assert_eq!(value_of(&s.data_num_dossiers_month, "03/24"), 4);
    assert_eq!(s.data.last_update, "2024-04-20T10:00:00.000Z");

    // The autumn change: 27 October 2024, 03:00 summer time becomes 02:00 winter time.
    let autumn = [
        (6, "2024-10-26T21:59:00Z"),  // 23:59 on 26 October
        (7, "2024-10-26T22:00:00Z"),  // 00:00 on 27 October (summer time)
        (8, "2024-10-27T01:30:00Z"),  // 02:30 on 27 October (winter time)
        (9, "2024-10-27T22:59:00Z"),  // 23:59 on 27 October
        (10, "2024-10-27T23:00:00Z"), // 00:00 on 28 October
    ];
    let list = common::created(Status::Initiated, &autumn);
    dossiers::upsert(&t.db, &list).await.unwrap();
    let s = export_stats(t, "2024-11-01T12:00:00+01:00").await;
    let days = &s.data_num_dossiers_day;
    assert_eq!(value_of(days, "26/10/24"), 1);
    assert_eq!(value_of(days, "27/10/24"), 3);
    assert_eq!(value_of(days, "28/10/24"), 1);
}

async fn windows_include_their_first_day_and_month(t: &TestDb) {
    let created = [
        (1, "2024-03-31T00:10:00+01:00"), // first day of the window
        (2, "2024-03-30T23:50:00+01:00"), // the day before: out of the days, in March
        (3, "2023-05-01T00:00:00+02:00"), // first month of the window
        (4, "2023-04-30T23:59:00+02:00"), // the month before: out of the months
        (5, "2024-05-01T09:59:00+02:00"), // today, before now
    ];
    let list = common::created(Status::Received, &created);
    dossiers::upsert(&t.db, &list).await.unwrap();

    let s = export_stats(t, "2024-05-01T10:00:00+02:00").await;
    let days = points(&s.data_num_dossiers_day);
    assert_eq!(days.len(), 32);
    assert_eq!(days[0], ("31/03/24".to_owned(), 1));
    assert_eq!(days[31], ("01/05/24".to_owned(), 1));
    assert_eq!(days.iter().map(|(_, n)| n).sum::<i64>(), 2);

    let months = points(&s.data_num_dossiers_month);
    let labels: Vec<&str> = months.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        [
            "05/23", "06/23", "07/23", "08/23", "09/23", "10/23", "11/23", "12/23", "01/24",
            "02/24", "03/24", "04/24", "05/24"
        ]
    );
    assert_eq!(months[0].1, 1);
    assert_eq!(value_of(&s.data_num_dossiers_month, "03/24"), 2);
    assert_eq!(months.iter().map(|(_, n)| n).sum::<i64>(), 4);
    assert_eq!(s.data.total_dossiers, 5, "totals count every dossier");
}

async fn statuses_countries_and_totals(t: &TestDb) {
    let rows = [
        (1, Status::Closed, Some("ALGERIE")),
        (2, Status::Closed, Some("Algerie")),
        (3, Status::Refused, Some("MAROC")),
        (4, Status::Initiated, Some("COREE (REPUBLIQUE DE)")),
        (5, Status::Initiated, Some("COREE (REPUBLIQUE DE)")),
        (6, Status::Received, Some("BRESIL")),
        (7, Status::Draft, None),
        (8, Status::Closed, Some("  ")),
        (9, Status::WithoutContinuation, Some("ALGERIE")),
    ];
    let list: Vec<_> = rows
        .iter()
        .map(|(id, status, country)| {
            let mut d = dossier(*id, *status);
            d.nationalite = country.map(str::to_owned);
            d
        })
        .collect();
    dossiers::upsert(&t.db, &list).await.unwrap();
    let mut gone = dossier(10, Status::Closed);
    gone.nationalite = Some("MAROC".into());
    dossiers::upsert(&t.db, &[gone]).await.unwrap();
    dossiers::mark_deleted_on_ds(
        &t.db,
        &[wif::domain::DsId::new(10).unwrap()],
        at("2024-01-01T00:00:00Z"),
    )
    .await
    .unwrap();

    let s = export_stats(t, "2024-06-01T12:00:00Z").await;
    assert_eq!(
        points(&s.data_num_by_status),
        [
            ("Brouillon".to_owned(), 1),
            ("En construction".to_owned(), 2),
            ("En instruction".to_owned(), 1),
            ("Accepté".to_owned(), 3),
            ("Refusé".to_owned(), 1),
            ("Sans suite".to_owned(), 1),
        ]
    );
    assert_eq!(
        points(&s.data_num_by_contry),
        [
            ("Algerie".to_owned(), 3),
            ("Coree (Republique De)".to_owned(), 2),
            ("Bresil".to_owned(), 1),
            ("Maroc".to_owned(), 1),
        ]
    );
    assert_eq!(s.data.total_dossiers, 9);
    assert_eq!(s.data.total_dossiers_closed, 3);
    assert_eq!(
        s.data_num_by_status.datasets[0].name,
        "Nombre de dossiers par statut"
    );
    assert_eq!(
        s.data_num_by_contry.datasets[0].name,
        "Nombre de dossiers par pays"
    );
}

async fn processing_time_is_the_floor_of_the_mean(t: &TestDb) {
    // 2 days 23 hours, from dépôt to decision.
    let mut a = dossier(1, Status::Closed);
    a.created_at = Some(at("2024-04-01T10:00:00Z"));
    a.initiated_at = Some(at("2024-04-01T10:00:00Z"));
    a.processed_at = Some(at("2024-04-04T09:00:00Z"));
    // No decision date: updated_at − created_at, 5 days.
    let mut b = dossier(2, Status::Closed);
    b.created_at = Some(at("2024-04-10T10:00:00Z"));
    b.updated_at = Some(at("2024-04-15T10:00:00Z"));
    // Another month: 10 days.
    let mut c = dossier(3, Status::Closed);
    c.created_at = Some(at("2024-05-02T10:00:00Z"));
    c.initiated_at = Some(at("2024-05-02T10:00:00Z"));
    c.processed_at = Some(at("2024-05-12T10:00:00Z"));
    // Not accepted: left out, however long.
    let mut refused = dossier(4, Status::Refused);
    refused.created_at = Some(at("2024-04-01T10:00:00Z"));
    refused.initiated_at = Some(at("2024-04-01T10:00:00Z"));
    refused.processed_at = Some(at("2024-05-30T10:00:00Z"));
    // Accepted more than 365 days ago: in the overall mean, not in the months.
    let mut old = dossier(5, Status::Closed);
    old.created_at = Some(at("2022-01-01T10:00:00Z"));
    old.initiated_at = Some(at("2022-01-01T10:00:00Z"));
    old.processed_at = Some(at("2022-01-21T10:00:00Z"));
    dossiers::upsert(&t.db, &[a, b, c, refused]).await.unwrap();

    let s = export_stats(t, "2024-06-01T12:00:00Z").await;
    // (2d23h + 5d + 10d) / 3 = 5d23h40m: 5 days.
    assert_eq!(s.data.time_to_process, 5);
    assert_eq!(
        points(&s.data_time_to_process_by_month),
        [
            ("04/2024 - 3 jour(s)".to_owned(), 3),
            ("05/2024 - 10 jour(s)".to_owned(), 10),
        ]
    );
    assert_eq!(
        s.data_time_to_process_by_month.datasets[0].name,
        "Temps de traitement moyen par mois (en jours)"
    );

    dossiers::upsert(&t.db, &[old]).await.unwrap();
    let s = export_stats(t, "2024-06-01T12:00:00Z").await;
    // (2d23h + 5d + 10d + 20d) / 4 = 9d11h45m: 9 days.
    assert_eq!(s.data.time_to_process, 9);
    assert_eq!(s.data_time_to_process_by_month.labels.len(), 2);
}

async fn readers_never_see_a_partial_file(t: &TestDb) {
    let list: Vec<_> = (1..=3000)
        .map(|id| {
            let mut d = dossier(id, Status::Closed);
            d.prenom = Some("Jean-Baptiste".into());
            d.nom = Some("Ngô Bảo Châu".into());
            d.date_de_fin_apt = date("2030-01-01");
            d
        })
        .collect();
    dossiers::upsert(&t.db, &list).await.unwrap();
    let path = t.dir.path().join("media/validity_check.json");
    let today = at("2024-06-01T12:00:00Z").date_naive();
    let output = Output::File(path.clone());
    validity_check::export(&t.db, &output, today).await.unwrap();

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (done, path) = (done.clone(), path.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let text = std::fs::read_to_string(&path).expect("the file always exists");
                let records: Vec<Value> =
                    serde_json::from_str(&text).expect("every read is a whole JSON document");
                assert_eq!(records.len(), 3000);
                reads += 1;
            }
            reads
        })
    };
    for _ in 0..15 {
        validity_check::export(&t.db, &output, today).await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0);
    let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
}

both_engines!(the_export_commands_print_the_seeds_messages);

async fn the_export_commands_print_the_seeds_messages(t: &TestDb) {
    let mut d = dossier(12, Status::Closed);
    d.date_de_fin_apt = date("2024-05-10");
    dossiers::upsert(
        &t.db,
        &[d, dossier(13, Status::Closed), dossier(14, Status::Draft)],
    )
    .await
    .unwrap();
    let media = t.dir.path().join("media");
    let media_root = media.to_str().unwrap();
    let vars = [
        ("WIF_DATABASE_URL", t.url.as_str()),
        ("WIF_MEDIA_ROOT", media_root),
    ];
    let now = ["--now", "2024-05-10T21:30:00Z"];

    let output = common::wif(
        t.dir.path(),
        &vars,
        &[&["export_validity_check_data"][..], &now].concat(),
        "",
    );
    assert!(output.status.success(), "{}", common::stderr(&output));
    assert_eq!(common::stdout(&output), "2 dossiers exported.\nDone.\n");
    let records = read_json(&media.join("validity_check.json"));
    assert_eq!(records[0]["has_expired"], false, "--now fixes today");

    let output = common::wif(
        t.dir.path(),
        &vars,
        &[&["export-stats-data"][..], &now].concat(),
        "",
    );
    assert_eq!(common::stdout(&output), "Done.\n");
    let file: StatsFile = serde_json::from_value(read_json(&media.join("stats.json"))).unwrap();
    assert_eq!(file.data.last_update, "2024-05-10T21:30:00.000Z");
    assert_eq!(file.data.total_dossiers, 3);

    let args = [&["export-stats-data", "--output", "-"][..], &now].concat();
    let output = common::wif(t.dir.path(), &vars, &args, "");
    let streamed: StatsFile = serde_json::from_slice(&output.stdout).expect("stdout is the file");
    assert_eq!(streamed, file);
    assert_eq!(common::stderr(&output).trim(), "Done.");

    let bad = common::wif(
        t.dir.path(),
        &vars,
        &["export-stats-data", "--now", "hier"],
        "",
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(common::stderr(&bad).contains("RFC 3339"));
}

/// Dossiers around Paris midnights, the autumn clock change, month boundaries and the edges of
/// both windows for `now` = 1 November 2024, 12:00 in Paris; with processing times of every kind
/// (fallback, sub-millisecond parts, negative), nationalities to merge and a deleted dossier.
fn pinned_data_set() -> Vec<wif::domain::Dossier> {
    use Status::*;
    // (number, status, created_at, nationalité), with the day in Paris when it matters.
    #[rustfmt::skip]
    let rows: [(i64, Status, Option<&str>, Option<&str>); 29] = [
        (1, Initiated, Some("2024-09-30T21:59:59.999Z"), Some("ALGERIE")), // 30 Sept, 23:59:59.999
        (2, Initiated, Some("2024-09-30T22:00:00Z"), Some("ALGERIE")), // 1 Oct 00:00: first day
        (3, Received, Some("2024-10-26T21:59:00Z"), Some("MAROC")), // 26 Oct, 23:59
        (4, Received, Some("2024-10-26T22:00:00Z"), Some("MAROC")), // 27 Oct, 00:00 summer time
        (5, Received, Some("2024-10-27T00:59:59Z"), Some("MAROC")), // 27 Oct, 02:59:59 summer
        (6, Received, Some("2024-10-27T01:00:00Z"), Some("maroc ")), // 27 Oct, 02:00 winter
        (7, Received, Some("2024-10-27T22:59:59Z"), Some("COREE (REPUBLIQUE DE)")), // 23:59:59
        (8, Received, Some("2024-10-27T23:00:00Z"), Some("COREE (REPUBLIQUE DE)")), // 28 Oct
        (9, Draft, Some("2024-10-31T22:59:00Z"), Some("TUNISIE")), // 31 Oct, 23:59
        (10, Draft, Some("2024-10-31T23:00:00Z"), Some("TUNISIE")), // 1 Nov, 00:00: today
        (11, Initiated, Some("2024-11-01T22:30:00Z"), Some("  ")), // later today
        (12, Initiated, Some("2024-11-01T23:00:00Z"), None), // tomorrow: this month only
        (13, Refused, Some("2023-10-31T22:59:59Z"), None), // 31 Oct 2023: before the months
        (14, Refused, Some("2023-10-31T23:00:00Z"), None), // 1 Nov 2023, 00:00: first month
        (15, Closed, Some("2023-11-01T22:59:00Z"), Some("ALGERIE")), // before today − 365 days
        (16, Closed, Some("2023-11-01T23:00:00Z"), Some("Algerie")), // 2 Nov 2023, 00:00
        (17, Closed, Some("2024-03-30T23:30:00Z"), Some("VIET NAM")), // 31 March, 00:30
        (18, Closed, Some("2024-03-31T22:30:00Z"), None), // 1 April, 00:30 summer time
        (19, Closed, Some("2024-05-15T10:00:00Z"), None),
        (20, Closed, None, None),
        (21, Closed, Some("2024-06-10T10:00:00Z"), None),
        (22, Closed, Some("2024-07-01T10:00:00Z"), None),
        (23, Closed, Some("2024-10-15T10:00:00Z"), Some("CHINE")), // deleted on DS
        (24, Closed, Some("2022-01-01T10:00:00Z"), None),
        (25, Closed, Some("2024-10-10T10:00:00Z"), None),
        (26, WithoutContinuation, Some("2024-02-29T23:00:00Z"), Some("BRESIL")), // 1 March
        (27, Closed, Some("2024-10-20T10:00:00Z"), None),
        (28, Closed, Some("2024-12-05T10:00:00Z"), None), // next month: processing time only
        (29, Received, Some("2024-11-30T23:30:00Z"), None), // 1 Dec in Paris: no month
    ];
    let mut list: Vec<_> = rows
        .iter()
        .map(|(id, status, created, country)| {
            let mut d = dossier(*id, *status);
            d.created_at = created.map(at);
            d.nationalite = country.map(str::to_owned);
            d
        })
        .collect();
    // Processing times: dépôt and decision or, without either, creation and last update.
    #[rustfmt::skip]
    let times = [
        (15, Some("2023-11-01T22:59:00Z"), Some("2023-11-11T22:59:00Z"), None), // 10 days
        (16, Some("2023-11-01T23:00:00Z"), Some("2023-11-06T11:00:00Z"), None), // 4 d 12 h
        // No decision date: 2 days and 0.5 ms from creation to the last update.
        (17, None, None, Some("2024-04-01T23:30:00.000500Z")),
        // 3 days less 0.4 ms: 259,199,999 ms (truncated, not rounded), 2 days.
        (18, Some("2024-03-31T22:30:00.000500Z"), Some("2024-04-03T22:30:00.000100Z"), None),
        // Decided before dépôt: −86,399,999 ms, whose floor is −1 day.
        (19, Some("2024-05-15T10:00:00Z"), Some("2024-05-14T10:00:00.000400Z"), None),
        (20, Some("2024-06-01T00:00:00Z"), Some("2024-06-08T00:00:00Z"), None), // 7 days
        // A dépôt but no decision: the fallback, 1 day.
        (21, Some("2024-06-10T10:00:00Z"), None, Some("2024-06-11T10:00:00Z")),
        (22, None, None, None), // no processing time
        (23, Some("2024-10-15T10:00:00Z"), Some("2025-01-23T10:00:00Z"), None),
        (24, Some("2022-01-01T10:00:00Z"), Some("2022-01-21T10:00:00Z"), None), // 20 days
        (25, Some("2024-10-10T10:00:00Z"), Some("2024-10-16T09:00:00Z"), None), // 5 d 23 h
        (27, Some("2024-10-20T10:00:00Z"), Some("2024-10-22T10:00:00Z"), None), // 2 days
        (28, Some("2024-12-05T10:00:00Z"), Some("2024-12-08T10:00:00Z"), None), // 3 days
    ];
    for (id, initiated, processed, updated) in times {
        let d = &mut list[id - 1];
        d.initiated_at = initiated.map(at);
        d.processed_at = processed.map(at);
        d.updated_at = updated.map(at);
    }
    list
}

async fn stats_json_is_pinned_around_midnights_and_clock_changes(t: &TestDb) {
    dossiers::upsert(&t.db, &pinned_data_set()).await.unwrap();
    dossiers::mark_deleted_on_ds(
        &t.db,
        &[wif::domain::DsId::new(23).unwrap()],
        at("2024-10-30T00:00:00Z"),
    )
    .await
    .unwrap();
    assert_pinned_stats(t).await;
}

/// `stats.json` for `pinned_data_set`, dossier 23 deleted on DS, byte for byte.
async fn assert_pinned_stats(t: &TestDb) {
    let path = t.dir.path().join("media/stats.json");
    stats::export(
        &t.db,
        &Output::File(path.clone()),
        at("2024-11-01T12:00:00+01:00"),
        Paris,
    )
    .await
    .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut days: Vec<i64> = vec![0; 32];
    // 1 Oct is the first value, 1 Nov the last.
    for (day, n) in [
        (1, 1),
        (10, 1),
        (20, 1),
        (26, 1),
        (27, 4),
        (28, 1),
        (31, 1),
        (32, 2),
    ] {
        days[day - 1] = n;
    }
    let day_labels: Vec<String> = (1..=31)
        .map(|d| format!("{d:02}/10/24"))
        .chain(["01/11/24".to_owned()])
        .collect();
    let expected = json!({
        "data": {
            "last_update": "2024-11-01T11:00:00.000Z",
            // 28 dossiers not deleted, 12 of them accepted; eleven processing times summing to
            // 4,964,400,000 ms: a mean of 5.2 days.
            "time_to_process": 5,
            "total_dossiers_closed": 12,
            "total_dossiers": 28,
        },
        "data_num_dossiers_day": {
            "labels": day_labels,
            "datasets": [{"name": "Nombre de dossiers par jour", "values": days}],
        },
        "data_num_dossiers_month": {
            "labels": ["11/23", "12/23", "01/24", "02/24", "03/24", "04/24", "05/24", "06/24",
                       "07/24", "08/24", "09/24", "10/24", "11/24"],
            "datasets": [{"name": "Nombre de dossiers par mois",
                          "values": [3, 0, 0, 0, 2, 1, 1, 1, 1, 0, 1, 10, 3]}],
        },
        "data_num_by_status": {
            "labels": ["Brouillon", "En construction", "En instruction", "Accepté", "Refusé",
                       "Sans suite"],
            "datasets": [{"name": "Nombre de dossiers par statut", "values": [2, 4, 7, 12, 2, 1]}],
        },
        "data_num_by_contry": {
            "labels": ["Algerie", "Maroc", "Coree (Republique De)", "Tunisie", "Bresil",
                       "Viet Nam"],
            "datasets": [{"name": "Nombre de dossiers par pays", "values": [4, 4, 2, 2, 1, 1]}],
        },
        "data_time_to_process_by_month": {
            "labels": ["11/2023 - 4 jour(s)", "03/2024 - 2 jour(s)", "04/2024 - 2 jour(s)",
                       "05/2024 - -1 jour(s)", "06/2024 - 1 jour(s)", "10/2024 - 3 jour(s)",
                       "12/2024 - 3 jour(s)"],
            "datasets": [{"name": "Temps de traitement moyen par mois (en jours)",
                          "values": [4, 2, 2, -1, 1, 3, 3]}],
        },
    });
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
    // The bytes: keys in the seed's order, no spaces.
    let file: StatsFile = serde_json::from_value(expected).unwrap();
    assert_eq!(text, serde_json::to_string(&file).unwrap());
    assert!(
        text.starts_with(
            r#"{"data":{"last_update":"2024-11-01T11:00:00.000Z","time_to_process":5,"#
        )
    );
}

/// Dossiers stored before migration 0015 get their processing times from it, exactly as a sync
/// computes them: the statistics are those pinned above.
#[tokio::test]
async fn migration_0015_fills_the_processing_times_sqlite() {
    stored_before_0015(&TestDb::sqlite(false).await).await;
}

#[tokio::test]
async fn migration_0015_fills_the_processing_times_postgres() {
    if let Some(t) = TestDb::postgres(false).await {
        stored_before_0015(&t).await;
    }
}

async fn stored_before_0015(t: &TestDb) {
    use sqlx::types::Json;
    let list = pinned_data_set();
    let when = at("2024-10-30T00:00:00Z");
    macro_rules! before_0015 {
        ($pool:expr, $migrations:literal) => {{
            let mut migrator = sqlx::migrate!($migrations);
            migrator.migrations = migrator
                .migrations
                .iter()
                .filter(|m| m.version < 15)
                .cloned()
                .collect::<Vec<_>>()
                .into();
            migrator.run($pool).await.unwrap();
            sqlx::query("INSERT INTO procedures (id, created_at) VALUES (1, $1)")
                .bind(when)
                .execute($pool)
                .await
                .unwrap();
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO dossiers (ds_id, procedure_id, status, created_at, initiated_at, \
                 processed_at, updated_at, nationalite, champs, raw, api_version, synced_at, \
                 deleted_on_ds_at) ",
            );
            insert.push_values(&list, |mut row, d| {
                row.push_bind(d.ds_id.get())
                    .push_bind(d.procedure_id)
                    .push_bind(d.status.as_str())
                    .push_bind(d.created_at)
                    .push_bind(d.initiated_at)
                    .push_bind(d.processed_at)
                    .push_bind(d.updated_at)
                    .push_bind(d.nationalite.as_deref())
                    .push_bind(Json(&d.champs))
                    .push_bind(Json(&d.raw))
                    .push_bind(d.api_version.as_str())
                    .push_bind(when)
                    .push_bind((d.ds_id.get() == 23).then_some(when));
            });
            insert.build().execute($pool).await.unwrap();
        }};
    }
    match &t.db {
        wif::store::Db::Sqlite(pool) => before_0015!(pool, "migrations/sqlite"),
        wif::store::Db::Postgres(pool) => before_0015!(pool, "migrations/postgres"),
    }
    t.db.migrate().await.unwrap();
    assert_pinned_stats(t).await;
}
