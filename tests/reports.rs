//! Monthly reports (SPEC 10) on both database engines: the figures of a data set whose expected
//! counts are stated below, the workbook read back with calamine, the CSV table, `wif report`,
//! the « Rapports mensuels » page within an account's scope, and the e-mails.

mod common;

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::NaiveDate;
use common::smtp::{SmtpServer, decoded_body, header};
use common::{ADMIN_PASSWORD, Agent, Answer, TestDb, at, create_user, dossier};
use reqwest::StatusCode;
use wif::config::Settings;
use wif::domain::report::{AptLength, Month, Report};
use wif::domain::{DsId, Scope, Status};
use wif::reports::{self, csv, xlsx};
use wif::store::{dossiers, emails, users};

const PARIS: &str = "75 - Paris";
const RHONE: &str = "69 - Rhône";
const GIRONDE: &str = "33 - Gironde";
const BOUCHES: &str = "13 - Bouches-du-Rhône";
const DS_URL: &str = "https://ds.example";

fn october() -> Month {
    "2026-10".parse().unwrap()
}

fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// A dossier decided at `decided` (RFC 3339), deposited at `deposited`.
struct Case {
    ds_id: i64,
    status: Status,
    department: Option<&'static str>,
    deposited: Option<&'static str>,
    decided: &'static str,
    apt: (&'static str, &'static str),
    nationalite: Option<&'static str>,
}

/// The data set of October 2026 in Paris time (UTC+2 until 25 October, UTC+1 after): the month
/// runs from 2026-09-30T22:00:00Z to 2026-10-31T23:00:00Z.
///
/// 75 - Paris: accepted ≤ 3 months 2 (1001 exactly three months, 1002 from 31 January to
/// 30 April), > 3 months 1 (1003, decided at the month's last second), unknown 2 (1005 without
/// a start date, 1006 ending before it starts), refused 1 (1007, at the month's first instant),
/// sans suite 1; days from deposit to decision 4, 20, 2, 0, 10, 10 (1006 has no deposit date):
/// median 7. Left out: 1004 (decided on 1 November in Paris, 31 October in UTC), 1008
/// (30 September in Paris), 1010 (not decided).
/// 69 - Rhône: refused 1 (2001, 3 days); 2002 is left out, deleted on DS.
/// No département: accepted ≤ 3 months 1 (3001, 5 days).
/// 33 - Gironde: a dossier decided in September only; 13 - Bouches-du-Rhône: an agent's only.
/// In all: 6 accepted (3, 1, 2), 2 refused, 1 sans suite, 9 decided; median of 0, 2, 3, 4, 5,
/// 10, 10, 20: 4.5.
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Status::*;
    let case = |ds_id, status, department, deposited, decided, apt, nationalite| Case {
        ds_id, status, department, deposited, decided, apt, nationalite,
    };
    let paris = Some(PARIS);
    vec![
        case(1001, Closed, paris, Some("2026-10-01T10:00:00Z"), "2026-10-05T10:00:00Z", ("2026-11-01", "2027-02-01"), Some("MAROC")),
        case(1002, Closed, paris, Some("2026-09-20T12:00:00Z"), "2026-10-10T12:00:00Z", ("2026-01-31", "2026-04-30"), Some("ALGERIE")),
        case(1003, Closed, paris, Some("2026-10-29T22:59:59Z"), "2026-10-31T22:59:59Z", ("2026-01-31", "2026-05-01"), Some("Maroc ")),
        case(1004, Closed, paris, Some("2026-10-01T10:00:00Z"), "2026-10-31T23:30:00Z", ("2026-11-01", "2027-02-01"), Some("TUNISIE")),
        case(1005, Closed, paris, Some("2026-10-14T09:00:00Z"), "2026-10-15T08:00:00Z", ("", "2027-02-01"), Some("CHINE")),
        case(1006, Closed, paris, None, "2026-10-20T08:00:00Z", ("2026-12-01", "2026-11-01"), None),
        case(1007, Refused, paris, Some("2026-09-20T22:00:00Z"), "2026-09-30T22:00:00Z", ("", ""), Some("INDE")),
        case(1008, Refused, paris, Some("2026-09-01T10:00:00Z"), "2026-09-30T21:59:59Z", ("", ""), None),
        case(1009, WithoutContinuation, paris, Some("2026-10-02T07:00:00Z"), "2026-10-12T07:00:00Z", ("", ""), None),
        case(2001, Refused, Some(RHONE), Some("2026-10-04T09:00:00Z"), "2026-10-07T09:00:00Z", ("", ""), None),
        case(2002, Closed, Some(RHONE), Some("2026-10-04T09:00:00Z"), "2026-10-07T09:00:00Z", ("2026-11-01", "2026-12-01"), Some("INDE")),
        case(3001, Closed, None, Some("2026-10-03T09:00:00Z"), "2026-10-08T09:00:00Z", ("2026-11-01", "2026-12-01"), Some("SENEGAL")),
        case(3301, Refused, Some(GIRONDE), Some("2026-09-01T09:00:00Z"), "2026-09-10T09:00:00Z", ("", ""), None),
    ]
}

async fn seed(t: &TestDb) {
    let mut list: Vec<_> = cases()
        .into_iter()
        .map(|c| {
            let mut d = dossier(c.ds_id, c.status);
            d.department = c.department.map(str::to_owned);
            d.initiated_at = c.deposited.map(at);
            d.processed_at = Some(at(c.decided));
            d.updated_at = Some(at(c.decided));
            d.date_de_debut_apt = day(c.apt.0);
            d.date_de_fin_apt = day(c.apt.1);
            d.nationalite = c.nationalite.map(str::to_owned);
            d.nom = Some("Zhang".into());
            d.prenom = Some("Emma".into());
            d
        })
        .collect();
    let mut undecided = dossier(1010, Status::Received);
    undecided.department = Some(PARIS.into());
    undecided.initiated_at = Some(at("2026-10-02T07:00:00Z"));
    list.push(undecided);
    dossiers::upsert(&t.db, &list).await.unwrap();
    dossiers::mark_deleted_on_ds(
        &t.db,
        &[DsId::new(2002).unwrap()],
        at("2026-11-02T00:00:00Z"),
    )
    .await
    .unwrap();
    let agent = create_user(t, "agent13", false).await;
    users::set_departments(&t.db, agent, &[BOUCHES.to_owned()])
        .await
        .unwrap();
}

const PARIS_TIME: chrono_tz::Tz = chrono_tz::Europe::Paris;

/// The APT length classes the database computes for the reports are those of `AptLength::of`,
/// the rule's one definition, on both engines: first the edge cases stated here (31 January,
/// 29 February, exactly three months, a day more, a day less), then every start from November
/// 2027 to March 2028 with its end on the day three months later, the day before and the day
/// after. Each dossier has a département of its own, so that its row of counts is its class.
async fn apt_lengths_are_classed_as_the_domain_rule_says(t: &TestDb) {
    use AptLength::*;
    let date = |text: &str| day(text).unwrap();
    let stated: Vec<(Option<NaiveDate>, Option<NaiveDate>, AptLength)> = [
        ("2026-01-15", "2026-04-15", UpToThreeMonths),
        ("2026-01-15", "2026-04-14", UpToThreeMonths),
        ("2026-01-15", "2026-04-16", MoreThanThreeMonths),
        ("2026-01-31", "2026-04-30", UpToThreeMonths),
        ("2026-01-31", "2026-05-01", MoreThanThreeMonths),
        ("2028-02-29", "2028-05-29", UpToThreeMonths),
        ("2028-02-29", "2028-05-30", MoreThanThreeMonths),
        ("2027-11-30", "2028-02-29", UpToThreeMonths),
        ("2027-11-30", "2028-03-01", MoreThanThreeMonths),
        ("2025-11-30", "2026-02-28", UpToThreeMonths),
        ("2025-11-30", "2026-03-01", MoreThanThreeMonths),
        ("2026-03-01", "2026-03-01", UpToThreeMonths),
        ("2026-03-02", "2026-03-01", Unknown),
    ]
    .into_iter()
    .map(|(start, end, length)| (Some(date(start)), Some(date(end)), length))
    .chain([
        (None, Some(date("2026-03-01")), Unknown),
        (Some(date("2026-03-01")), None, Unknown),
        (None, None, Unknown),
    ])
    .collect();
    for (start, end, length) in &stated {
        assert_eq!(AptLength::of(*start, *end), *length, "{start:?} – {end:?}");
    }
    let mut apts: Vec<(Option<NaiveDate>, Option<NaiveDate>)> = stated
        .iter()
        .map(|(start, end, _)| (*start, *end))
        .collect();
    let mut start = date("2027-11-01");
    while start <= date("2028-03-31") {
        let three_months = start.checked_add_months(chrono::Months::new(3)).unwrap();
        for end in [
            three_months.pred_opt(),
            Some(three_months),
            three_months.succ_opt(),
        ] {
            apts.push((Some(start), end));
        }
        start = start.succ_opt().unwrap();
    }
    let decided = at("2026-10-10T12:00:00Z");
    let list: Vec<_> = apts
        .iter()
        .enumerate()
        .map(|(i, (start, end))| {
            let mut d = dossier(i as i64 + 1, Status::Closed);
            d.department = Some(i.to_string());
            d.processed_at = Some(decided);
            d.updated_at = Some(decided);
            d.date_de_debut_apt = *start;
            d.date_de_fin_apt = *end;
            d
        })
        .collect();
    dossiers::upsert(&t.db, &list).await.unwrap();
    let month = wif::store::reports::Decided {
        start: at("2026-10-01T00:00:00Z"),
        end: at("2026-11-01T00:00:00Z"),
        scope: &Scope::National,
    };
    let counts = wif::store::reports::decisions(&t.db, &month).await.unwrap();
    assert_eq!(counts.len(), apts.len());
    for count in counts {
        let i: usize = count.department.as_deref().unwrap().parse().unwrap();
        let (start, end) = apts[i];
        assert_eq!(count.count, 1);
        assert_eq!(
            count.length,
            AptLength::of(start, end),
            "{start:?} – {end:?}, as the database classes it"
        );
    }
}

/// The counts columns of a row: ≤ 3, > 3, unknown, accepted, refused, sans suite, decided.
fn row_counts(report: &Report, department: Option<&str>) -> [u64; 7] {
    reports::counts(&report.department(department).unwrap().figures)
}

/// Every figure of the national report, as stated above `cases`.
async fn the_report_counts_what_was_decided_in_the_month(t: &TestDb) {
    seed(t).await;
    let report = reports::compute(&t.db, october(), PARIS_TIME, &Scope::National)
        .await
        .unwrap();
    let names: Vec<Option<&str>> = report
        .departments
        .iter()
        .map(|d| d.department.as_deref())
        .collect();
    assert_eq!(
        names,
        [Some(BOUCHES), Some(GIRONDE), Some(RHONE), Some(PARIS), None]
    );
    assert_eq!(row_counts(&report, Some(PARIS)), [2, 1, 2, 5, 1, 1, 7]);
    assert_eq!(row_counts(&report, Some(RHONE)), [0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(row_counts(&report, None), [1, 0, 0, 1, 0, 0, 1]);
    assert_eq!(row_counts(&report, Some(GIRONDE)), [0; 7]);
    assert_eq!(row_counts(&report, Some(BOUCHES)), [0; 7]);
    assert_eq!(reports::counts(&report.total), [3, 1, 2, 6, 2, 1, 9]);

    let paris = &report.department(Some(PARIS)).unwrap().figures;
    assert_eq!(paris.median_days(), Some(7.0));
    assert_eq!(
        report
            .department(Some(RHONE))
            .unwrap()
            .figures
            .median_days(),
        Some(3.0)
    );
    assert_eq!(
        report
            .department(Some(GIRONDE))
            .unwrap()
            .figures
            .median_days(),
        None
    );
    assert_eq!(report.total.median_days(), Some(4.5));
    assert_eq!(
        paris.top_nationalities(AptLength::UpToThreeMonths),
        [("Algerie", 1), ("Maroc", 1)]
    );
    assert_eq!(
        paris.top_nationalities(AptLength::MoreThanThreeMonths),
        [("Maroc", 1)]
    );
    assert_eq!(paris.top_nationalities(AptLength::Unknown), [("Chine", 1)]);
    assert_eq!(
        report.total.top_nationalities(AptLength::UpToThreeMonths),
        [("Algerie", 1), ("Maroc", 1), ("Senegal", 1)]
    );
    let refused: Vec<i64> = report
        .total
        .refused_dossiers
        .iter()
        .map(|d| d.ds_id)
        .collect();
    assert_eq!(refused, [1007, 2001]);

    // September: 1007 is not there, 1008 and 3301 are.
    let september = reports::compute(&t.db, october().previous(), PARIS_TIME, &Scope::National)
        .await
        .unwrap();
    assert_eq!(reports::counts(&september.total), [0, 0, 0, 0, 2, 0, 2]);
    // November in Paris: 1004, decided on 31 October in UTC.
    let november = reports::compute(&t.db, october().next(), PARIS_TIME, &Scope::National)
        .await
        .unwrap();
    assert_eq!(reports::counts(&november.total), [1, 0, 0, 1, 0, 0, 1]);
    // In UTC, 1004 is October's and 1007 September's.
    let utc = reports::compute(&t.db, october(), chrono_tz::UTC, &Scope::National)
        .await
        .unwrap();
    assert_eq!(reports::counts(&utc.total), [4, 1, 2, 7, 1, 1, 9]);

    // A limited scope: its départements only, every one of them, never the others.
    let limited = Scope::of(
        false,
        vec![PARIS.to_owned(), "2A - Corse-du-Sud".to_owned()],
    );
    let report = reports::compute(&t.db, october(), PARIS_TIME, &limited)
        .await
        .unwrap();
    let names: Vec<Option<&str>> = report
        .departments
        .iter()
        .map(|d| d.department.as_deref())
        .collect();
    assert_eq!(names, [Some("2A - Corse-du-Sud"), Some(PARIS)]);
    assert_eq!(reports::counts(&report.total), [2, 1, 2, 5, 1, 1, 7]);
    assert_eq!(report.total.median_days(), Some(7.0));
}

fn ds() -> wif::config::DsSettings {
    settings(&[]).ds
}

fn settings(vars: &[(&str, &str)]) -> Settings {
    Settings::from_lookup(|key| match key {
        "DEMARCHES_SIMPLIFIEES_API_URL" => Some(DS_URL.to_owned()),
        _ => vars
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string()),
    })
    .unwrap()
}

/// A sheet's cells that are not empty, by (row, column).
type Cells = HashMap<(u32, u32), Data>;

/// A workbook's sheets, each with its name.
fn read_workbook(bytes: &[u8]) -> Vec<(String, Cells)> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    workbook
        .sheet_names()
        .into_iter()
        .map(|name| {
            let range = workbook.worksheet_range(&name).unwrap();
            let (top, left) = range.start().unwrap_or_default();
            let cells = range
                .cells()
                .filter(|(_, _, v)| **v != Data::Empty)
                .map(|(r, c, v)| ((top + r as u32, left + c as u32), v.clone()))
                .collect();
            (name, cells)
        })
        .collect()
}

fn text(cells: &Cells, at: (u32, u32)) -> String {
    match cells.get(&at) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("{at:?}: {other:?} is not text"),
    }
}

fn float(cells: &Cells, at: (u32, u32)) -> f64 {
    match cells.get(&at) {
        Some(Data::Float(n)) => *n,
        Some(Data::Int(n)) => *n as f64,
        other => panic!("{at:?}: {other:?} is not a number"),
    }
}

/// The numbers of a table row from column 1: counts then median.
fn numbers(cells: &Cells, row: u32, len: u32) -> Vec<f64> {
    (1..=len).map(|c| float(cells, (row, c))).collect()
}

/// The workbook of the national report, read back: every figure in number cells.
async fn the_workbook_holds_every_figure(t: &TestDb) {
    seed(t).await;
    let report = reports::compute(&t.db, october(), PARIS_TIME, &Scope::National)
        .await
        .unwrap();
    let bytes = xlsx::workbook(&report, &ds()).unwrap();
    let sheets = read_workbook(&bytes);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["Synthèse", BOUCHES, GIRONDE, RHONE, PARIS, "Non renseigné"]
    );

    let summary = &sheets[0].1;
    assert!(text(summary, (0, 0)).contains("octobre 2026"));
    assert_eq!(text(summary, (1, 0)), "Département");
    assert_eq!(
        text(summary, (1, 8)),
        "Délai médian du dépôt à la décision (jours)"
    );
    let rows: Vec<(String, Vec<f64>)> = (2..8)
        .map(|r| (text(summary, (r, 0)), numbers(summary, r, 7)))
        .collect();
    assert_eq!(
        rows,
        [
            (BOUCHES.to_owned(), vec![0.0; 7]),
            (GIRONDE.to_owned(), vec![0.0; 7]),
            (RHONE.to_owned(), vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0]),
            (PARIS.to_owned(), vec![2.0, 1.0, 2.0, 5.0, 1.0, 1.0, 7.0]),
            (
                "Non renseigné".to_owned(),
                vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
            ),
            ("Total".to_owned(), vec![3.0, 1.0, 2.0, 6.0, 2.0, 1.0, 9.0]),
        ]
    );
    let medians: Vec<Option<f64>> = (2..8)
        .map(|r| summary.get(&(r, 8)).map(|_| float(summary, (r, 8))))
        .collect();
    assert_eq!(
        medians,
        [None, None, Some(3.0), Some(7.0), Some(5.0), Some(4.5)]
    );
    // The national ranking, right of the table: rank, then (nationality, count) per length.
    assert_eq!(text(summary, (1, 10)), "Rang");
    assert_eq!(
        text(summary, (1, 11)),
        "Nationalité (acceptés, APT ≤ 3 mois)"
    );
    let ranked: Vec<(String, f64)> = (2..5)
        .map(|r| (text(summary, (r, 11)), float(summary, (r, 12))))
        .collect();
    assert_eq!(
        ranked,
        [
            ("Algerie".to_owned(), 1.0),
            ("Maroc".to_owned(), 1.0),
            ("Senegal".to_owned(), 1.0)
        ]
    );
    assert_eq!(text(summary, (2, 13)), "Maroc");
    assert_eq!(text(summary, (2, 15)), "Chine");
    assert!(!summary.contains_key(&(5, 11)));

    let paris = &sheets[4].1;
    assert_eq!(
        text(paris, (0, 0)),
        "75 - Paris : dossiers décidés en octobre 2026"
    );
    let indicators: Vec<(String, f64)> = (2..10)
        .map(|r| (text(paris, (r, 0)), float(paris, (r, 1))))
        .collect();
    assert_eq!(
        indicators.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [2.0, 1.0, 2.0, 5.0, 1.0, 1.0, 7.0, 7.0]
    );
    assert_eq!(indicators[4].0, "Refusés");
    assert_eq!(text(paris, (2, 4)), "Algerie");
    assert_eq!(text(paris, (3, 4)), "Maroc");
    assert_eq!(text(paris, (2, 6)), "Maroc");
    assert_eq!(text(paris, (2, 8)), "Chine");
    assert_eq!(text(paris, (1, 11)), "Dossier refusé");
    assert_eq!(float(paris, (2, 11)), 1007.0);
    assert_eq!(
        text(paris, (2, 12)),
        "https://ds.example/procedures/1/dossiers/1007"
    );
    assert!(!paris.contains_key(&(3, 11)));
    let gironde = &sheets[2].1;
    assert_eq!(
        (2..9).map(|r| float(gironde, (r, 1))).collect::<Vec<_>>(),
        [0.0; 7]
    );
    assert!(
        !gironde.contains_key(&(9, 1)),
        "no median without a decision"
    );
    // No personal data in the file.
    let all_text: String = sheets
        .iter()
        .flat_map(|(_, cells)| cells.values())
        .map(|v| v.to_string())
        .collect();
    assert!(!all_text.contains("Zhang") && !all_text.contains("Emma"));

    // The CSV table: the same rows, for French spreadsheets.
    let table = String::from_utf8(csv::national_table(&report)).unwrap();
    let lines: Vec<&str> = table.split("\r\n").collect();
    assert!(lines[0].starts_with("\u{feff}Département;"), "{table}");
    assert_eq!(lines[1], "13 - Bouches-du-Rhône;0;0;0;0;0;0;0;");
    assert_eq!(lines[3], "69 - Rhône;0;0;0;0;1;0;1;3");
    assert_eq!(lines[4], "75 - Paris;2;1;2;5;1;1;7;7");
    assert_eq!(lines[5], "Non renseigné;1;0;0;1;0;0;1;5");
    assert_eq!(lines[6], "Total;3;1;2;6;2;1;9;4,5");
    assert_eq!(lines[7..], [""]);
}

/// `wif report`: the workbook, one département's, the CSV table; a wrong month or département
/// is refused in one sentence.
async fn the_command_writes_the_files(t: &TestDb) {
    seed(t).await;
    let dir = t.dir.path();
    let vars = [
        ("WIF_DATABASE_URL", t.url.as_str()),
        ("DEMARCHES_SIMPLIFIEES_API_URL", DS_URL),
    ];
    let run = |args: &[&str]| common::wif(dir, &vars, args, "");
    let national = run(&["report", "--month", "2026-10", "--output", "national.xlsx"]);
    assert!(national.status.success(), "{}", common::stderr(&national));
    assert!(
        common::stdout(&national).contains("octobre 2026")
            && common::stdout(&national).contains("9 dossiers décidés"),
        "{}",
        common::stdout(&national)
    );
    let sheets = read_workbook(&std::fs::read(dir.join("national.xlsx")).unwrap());
    assert_eq!(sheets.len(), 6);
    assert_eq!(float(&sheets[0].1, (7, 7)), 9.0);

    let paris = run(&[
        "report",
        "--month",
        "2026-10",
        "--departement",
        PARIS,
        "--output",
        "paris.xlsx",
    ]);
    assert!(paris.status.success(), "{}", common::stderr(&paris));
    let sheets = read_workbook(&std::fs::read(dir.join("paris.xlsx")).unwrap());
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Synthèse", PARIS]);
    assert_eq!(text(&sheets[0].1, (3, 0)), "Total");
    assert_eq!(float(&sheets[0].1, (3, 7)), 7.0);

    let table = run(&["report", "--month", "2026-10", "--output", "rapport.csv"]);
    assert!(table.status.success(), "{}", common::stderr(&table));
    let csv = std::fs::read(dir.join("rapport.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}Département;".as_bytes()));
    assert!(
        String::from_utf8(csv)
            .unwrap()
            .contains("\r\nTotal;3;1;2;6;2;1;9;4,5\r\n")
    );

    let bad_month = run(&["report", "--month", "2026-13", "--output", "x.xlsx"]);
    assert_eq!(bad_month.status.code(), Some(2));
    assert!(common::stderr(&bad_month).contains("« 2026-13 » n'est pas un mois"));
    let bad_format = run(&["report", "--month", "2026-10", "--output", "x.pdf"]);
    assert_eq!(bad_format.status.code(), Some(2));
    assert!(common::stderr(&bad_format).contains(".xlsx"));
    let unknown = run(&[
        "report",
        "--month",
        "2026-10",
        "--departement",
        "99 - Nulle part",
        "--output",
        "x.xlsx",
    ]);
    common::assert_clear_failure(&unknown, "département inconnu : « 99 - Nulle part »");
    assert!(!dir.join("x.xlsx").exists());
}

/// The page and its downloads: everything for an administrator; for an agent limited to Paris,
/// Paris alone (no other département's name, count or dossier), and 404 for another one.
async fn the_page_honours_the_scope(t: &TestDb) {
    seed(t).await;
    create_user(t, "admin", true).await;
    let limited = create_user(t, "agent75", false).await;
    users::set_departments(&t.db, limited, &[PARIS.to_owned()])
        .await
        .unwrap();
    let base = common::start_admin(t).await;

    let mut admin = Agent::new(&base);
    admin.sign_in("admin", ADMIN_PASSWORD).await;
    let Answer {
        status, body: html, ..
    } = admin.get("/admin/rapports/?mois=2026-10").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Rapports mensuels : octobre 2026"), "{html}");
    assert!(html.contains("aria-current=\"page\">Rapports mensuels"));
    for name in [
        PARIS,
        RHONE,
        GIRONDE,
        BOUCHES,
        "Non renseigné",
        "Algerie",
        "Senegal",
    ] {
        assert!(html.contains(name), "{name}");
    }
    assert!(html.contains("<caption>Dossiers décidés en octobre 2026, par département</caption>"));
    assert!(
        html.contains("<option value=\"2026-10\" selected>octobre 2026</option>"),
        "{html}"
    );
    assert!(
        html.contains("href=\"/admin/rapports/?departement=75+-+Paris&amp;mois=2026-10\""),
        "{html}"
    );
    let detail = admin
        .get("/admin/rapports/?mois=2026-10&departement=75+-+Paris")
        .await
        .body;
    assert!(detail.contains("href=\"/admin/dossiers/1007\""), "{detail}");
    assert!(detail.contains(&format!(
        "{}/procedures/1/dossiers/1007",
        wif::config::DEFAULT_DS_API_URL
    )));
    assert!(
        !detail.contains("2001"),
        "Rhône's refused dossier is not Paris's"
    );
    let unknown = admin
        .get("/admin/rapports/?mois=2026-10&departement=Non+renseign%C3%A9")
        .await
        .body;
    assert!(unknown.contains("Senegal"));
    let status = admin
        .get("/admin/rapports/?mois=2026-10&departement=99+-+Nulle+part")
        .await
        .status;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bad = admin.get("/admin/rapports/?mois=2026-13").await.body;
    assert!(bad.contains("Ce mois n'existe pas"));

    let (status, headers, bytes) = admin
        .download("/admin/rapports/rapport.xlsx?mois=2026-10")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], xlsx::CONTENT_TYPE);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"rapport-wif-2026-10.xlsx\""
    );
    assert_eq!(read_workbook(&bytes).len(), 6);
    let (_, headers, bytes) = admin
        .download("/admin/rapports/rapport.csv?mois=2026-10")
        .await;
    assert_eq!(headers["content-type"], csv::CONTENT_TYPE);
    assert!(
        String::from_utf8(bytes)
            .unwrap()
            .contains("Total;3;1;2;6;2;1;9;4,5")
    );

    let mut agent = Agent::new(&base);
    agent.sign_in("agent75", ADMIN_PASSWORD).await;
    let Answer {
        status, body: html, ..
    } = agent.get("/admin/rapports/?mois=2026-10").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(PARIS));
    assert!(html.contains("dans vos départements"));
    for other in [
        RHONE,
        GIRONDE,
        BOUCHES,
        "Non renseigné",
        "Senegal",
        "2001",
        "3001",
    ] {
        assert!(!html.contains(other), "{other} shown to a Paris agent");
    }
    for other in [RHONE, "Non renseigné", GIRONDE] {
        let path = format!(
            "/admin/rapports/?mois=2026-10&departement={}",
            urlencode(other)
        );
        assert_eq!(
            agent.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{other}"
        );
        let file = format!(
            "/admin/rapports/rapport.xlsx?mois=2026-10&departement={}",
            urlencode(other)
        );
        assert_eq!(
            agent.download(&file).await.0,
            StatusCode::NOT_FOUND,
            "{other}"
        );
    }
    let (status, _, bytes) = agent
        .download("/admin/rapports/rapport.xlsx?mois=2026-10")
        .await;
    assert_eq!(status, StatusCode::OK);
    let sheets = read_workbook(&bytes);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Synthèse", PARIS]);
    let everything: String = sheets
        .iter()
        .flat_map(|(_, cells)| cells.values())
        .map(|v| v.to_string())
        .collect();
    for other in [RHONE, GIRONDE, BOUCHES, "Non renseigné", "Senegal", "2001"] {
        assert!(
            !everything.contains(other),
            "{other} in a Paris agent's workbook"
        );
    }
    let (_, _, bytes) = agent
        .download("/admin/rapports/rapport.csv?mois=2026-10")
        .await;
    let table = String::from_utf8(bytes).unwrap();
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains("Total;2;1;2;5;1;1;7;7"));
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("x", text)]).unwrap()[2..].to_owned()
}

/// The raw parts of a multipart message: (headers, body) each.
fn parts(message: &str) -> Vec<String> {
    let boundary = message
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a multipart message");
    message
        .split(&format!("--{boundary}"))
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .map(|p| p.trim_start_matches(['\r', '\n']).to_owned())
        .collect()
}

fn base64_body(part: &str) -> Vec<u8> {
    use base64::Engine as _;
    let (_, body) = part.split_once("\n\n").unwrap();
    let compact: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .unwrap()
}

/// `WIF_REPORTS_SCHEDULE`'s job: the national workbook to `WIF_REPORTS_RECIPIENTS`, each
/// département's to its active agents; figures only in the body; each e-mail recorded, none
/// sent twice.
async fn reports_are_e_mailed_to_the_right_people(t: &TestDb) {
    seed(t).await;
    let paris = create_user(t, "agent75", false).await;
    users::set_departments(&t.db, paris, &[PARIS.to_owned()])
        .await
        .unwrap();
    let gone = create_user(t, "ancien75", false).await;
    users::set_departments(&t.db, gone, &[PARIS.to_owned()])
        .await
        .unwrap();
    users::set_active(&t.db, gone, false).await.unwrap();
    create_user(t, "admin", true).await;
    let server = SmtpServer::start(t.dir.path());
    let smtp = format!("smtp://127.0.0.1:{}?tls=none", server.port);
    let settings = settings(&[
        ("WIF_SMTP_URL", &smtp),
        (
            "WIF_EMAIL_FROM",
            "Work in France <ne-pas-repondre@wif.example>",
        ),
        (
            "WIF_REPORTS_RECIPIENTS",
            "Pilotage@dreets.gouv.fr, dgef@interieur.gouv.fr",
        ),
    ]);
    let mailer = wif::mail::Mailer::new(&settings.email).unwrap();
    let mailing = reports::send(&t.db, &mailer, &settings, october())
        .await
        .unwrap();
    assert_eq!((mailing.sent, mailing.failed), (4, 0));

    let messages = server.messages();
    let mut to: Vec<String> = messages.iter().map(|m| header(m, "To")).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "agent13@dreets.gouv.fr",
            "agent75@dreets.gouv.fr",
            "dgef@interieur.gouv.fr",
            "pilotage@dreets.gouv.fr"
        ]
    );
    let message = |to: &str| {
        messages
            .iter()
            .find(|m| header(m, "To") == to)
            .unwrap()
            .clone()
    };
    let national = parts(&message("pilotage@dreets.gouv.fr"));
    assert_eq!(national.len(), 2);
    let body = decoded_body(&national[0]);
    assert!(
        body.contains("Dossiers décidés en octobre 2026 : 9"),
        "{body}"
    );
    assert!(body.contains("refusés : 2"), "{body}");
    assert!(
        body.contains("Délai médian du dépôt à la décision : 4,5 jours"),
        "{body}"
    );
    for personal in ["Zhang", "Emma", "1007", "2001"] {
        assert!(!body.contains(personal), "{personal} in {body}");
    }
    assert!(
        national[1].contains("rapport-wif-2026-10.xlsx"),
        "{}",
        national[1]
    );
    let sheets = read_workbook(&base64_body(&national[1]));
    assert_eq!(sheets.len(), 6);

    let for_paris = parts(&message("agent75@dreets.gouv.fr"));
    let subject = header(&message("agent75@dreets.gouv.fr"), "Subject");
    assert!(!subject.is_empty());
    let body = decoded_body(&for_paris[0]);
    assert!(body.contains("(75 - Paris)"), "{body}");
    assert!(
        body.contains("Dossiers décidés en octobre 2026 : 7"),
        "{body}"
    );
    assert!(for_paris[1].contains("rapport-wif-2026-10-75-paris.xlsx"));
    let sheets = read_workbook(&base64_body(&for_paris[1]));
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Synthèse", PARIS]);
    let bouches = read_workbook(&base64_body(&parts(&message("agent13@dreets.gouv.fr"))[1]));
    assert_eq!(
        float(&bouches[1].1, (8, 1)),
        0.0,
        "a month without decision"
    );

    let recorded = emails::latest(&t.db, 10).await.unwrap();
    assert_eq!(recorded.len(), 4);
    assert!(
        recorded
            .iter()
            .all(|e| e.sent && e.kind == reports::EMAIL_KIND)
    );

    // Again: everything was sent, nothing goes twice.
    let again = reports::send(&t.db, &mailer, &settings, october())
        .await
        .unwrap();
    assert_eq!((again.sent, again.failed), (0, 0));
    assert_eq!(server.messages().len(), 4);
}

/// The job is on by default, on the 1st of the month at 7:00, and the sync page shows it.
async fn the_job_is_scheduled_and_shown(t: &TestDb) {
    let jobs = wif::scheduler::jobs(&settings(&[]));
    let job = jobs
        .iter()
        .find(|j| j.kind == wif::scheduler::JobKind::Reports)
        .expect("the reports job");
    assert_eq!(job.schedule.as_str(), "0 7 1 * *");
    create_user(t, "admin", true).await;
    let base = common::start_admin_configured(t, &[], |state| state.jobs = jobs.clone()).await;
    let mut admin = Agent::new(&base);
    admin.sign_in("admin", ADMIN_PASSWORD).await;
    let html = admin.get("/admin/sync/").await.body;
    assert!(
        html.contains("Rapports mensuels du mois précédent par e-mail (<code>0 7 1 * *</code>)"),
        "{html}"
    );
    let off = settings(&[("WIF_REPORTS_SCHEDULE", "off")]);
    assert!(
        wif::scheduler::jobs(&off)
            .iter()
            .all(|j| j.kind != wif::scheduler::JobKind::Reports)
    );
}

/// Runs SQL that no function of the program runs, on either engine.
async fn execute(t: &TestDb, statements: &[&str]) {
    for sql in statements {
        match &t.db {
            wif::store::Db::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
            wif::store::Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        }
        .unwrap();
    }
}

/// Départements as applicants or administrators may write them: `' 'x` once left a sheet name
/// starting with an apostrophe, and then no workbook could be written at all.
const HOSTILE: [&str; 8] = [
    "' 'x",
    "x",
    "=1+1",
    "-2+3",
    "@SUM(A1)",
    "[a]:*?/\\",
    "History",
    "Un département au nom beaucoup trop long pour Excel",
];

/// `seed`, a dossier accepted in October in each hostile département (its nationality a
/// formula too), an agent limited to `' 'x` and one to Paris.
async fn seed_hostile(t: &TestDb) {
    seed(t).await;
    let list: Vec<_> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut d = dossier(4001 + i as i64, Status::Closed);
            d.department = Some((*name).to_owned());
            d.initiated_at = Some(at("2026-10-02T09:00:00Z"));
            d.processed_at = Some(at("2026-10-06T09:00:00Z"));
            d.updated_at = d.processed_at;
            d.nationalite = Some("=1+2".to_owned());
            d
        })
        .collect();
    dossiers::upsert(&t.db, &list).await.unwrap();
    let agent = create_user(t, "agentx", false).await;
    users::set_departments(&t.db, agent, &[HOSTILE[0].to_owned()])
        .await
        .unwrap();
    let paris = create_user(t, "agent75", false).await;
    users::set_departments(&t.db, paris, &[PARIS.to_owned()])
        .await
        .unwrap();
}

/// Every sheet of a workbook holds values only: no formula anywhere.
fn assert_no_formula(bytes: &[u8]) {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    for name in workbook.sheet_names() {
        let formulas = workbook.worksheet_formula(&name).unwrap();
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "a formula in {name}"
        );
    }
}

/// Hostile départements: the workbook (library, page, command) has a valid, unique name for
/// every sheet and their text as text cells; the CSV table has no formula; `--send` sends
/// every report.
async fn hostile_departements_break_no_report(t: &TestDb) {
    seed_hostile(t).await;
    let report = reports::compute(&t.db, october(), PARIS_TIME, &Scope::National)
        .await
        .unwrap();
    let bytes = xlsx::workbook(&report, &ds()).unwrap();
    let sheets = read_workbook(&bytes);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Synthèse",
            "x",
            "-2+3",
            BOUCHES,
            GIRONDE,
            RHONE,
            PARIS,
            "=1+1",
            "@SUM(A1)",
            "History (2)",
            "Un département au nom beaucoup",
            "-a------",
            "x (2)",
            "Non renseigné",
        ]
    );
    let summary = &sheets[0].1;
    let row = (2..20)
        .find(|r| summary.get(&(*r, 0)) == Some(&Data::String("=1+1".to_owned())))
        .expect("the =1+1 département as a text cell");
    assert_eq!(
        numbers(summary, row, 7),
        [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    );
    assert_eq!(text(summary, (2, 15)), "=1+2", "a nationality as text");
    assert_eq!(
        text(&sheets[7].1, (0, 0)),
        "=1+1 : dossiers décidés en octobre 2026"
    );
    assert_no_formula(&bytes);

    let table = String::from_utf8(csv::national_table(&report)).unwrap();
    let lines: Vec<&str> = table.split("\r\n").collect();
    for line in [
        "' 'x;0;0;1;1;0;0;1;4",
        "'-2+3;0;0;1;1;0;0;1;4",
        "'=1+1;0;0;1;1;0;0;1;4",
        "'@SUM(A1);0;0;1;1;0;0;1;4",
        "History;0;0;1;1;0;0;1;4",
    ] {
        assert!(lines.contains(&line), "{line} not in {table}");
    }
    assert!(
        lines
            .iter()
            .all(|l| !l.starts_with(['=', '+', '-', '@', '\t', '\r'])),
        "{table}"
    );

    create_user(t, "admin", true).await;
    let base = common::start_admin(t).await;
    let mut admin = Agent::new(&base);
    admin.sign_in("admin", ADMIN_PASSWORD).await;
    let page = admin.get("/admin/rapports/?mois=2026-10").await;
    assert_eq!(page.status, StatusCode::OK);
    // Every month: September has no dossier without a département, hence no sheet for them.
    for (month, sheets) in [("2026-10", 14), ("2026-09", 13)] {
        let (status, _, bytes) = admin
            .download(&format!("/admin/rapports/rapport.xlsx?mois={month}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{month}");
        assert_eq!(read_workbook(&bytes).len(), sheets, "{month}");
    }
    let (status, _, bytes) = admin
        .download("/admin/rapports/rapport.xlsx?mois=2026-10&departement=%27+%27x")
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<String> = read_workbook(&bytes).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Synthèse", "x"]);
    let (status, _, bytes) = admin
        .download("/admin/rapports/rapport.csv?mois=2026-10")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        String::from_utf8(bytes)
            .unwrap()
            .contains("\r\n'=1+1;0;0;1;1;0;0;1;4\r\n")
    );

    let server = SmtpServer::start(t.dir.path());
    let smtp = format!("smtp://127.0.0.1:{}?tls=none", server.port);
    let dir = t.dir.path();
    let vars = [
        ("WIF_DATABASE_URL", t.url.as_str()),
        ("DEMARCHES_SIMPLIFIEES_API_URL", DS_URL),
        ("WIF_SMTP_URL", smtp.as_str()),
        ("WIF_EMAIL_FROM", "ne-pas-repondre@wif.example"),
        ("WIF_REPORTS_RECIPIENTS", "pilotage@dreets.gouv.fr"),
    ];
    let written = common::wif(
        dir,
        &vars,
        &["report", "--month", "2026-10", "--output", "hostile.xlsx"],
        "",
    );
    assert!(written.status.success(), "{}", common::stderr(&written));
    assert_eq!(
        read_workbook(&std::fs::read(dir.join("hostile.xlsx")).unwrap()).len(),
        14
    );
    let sent = common::wif(dir, &vars, &["report", "--month", "2026-10", "--send"], "");
    assert!(sent.status.success(), "{}", common::stderr(&sent));
    let mut to: Vec<String> = server.messages().iter().map(|m| header(m, "To")).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "agent13@dreets.gouv.fr",
            "agent75@dreets.gouv.fr",
            "agentx@dreets.gouv.fr",
            "pilotage@dreets.gouv.fr"
        ]
    );
}

/// A report that cannot be sent (here, its e-mail cannot be recorded) stops that report only:
/// the others are sent, the failure is said in one sentence, and the command fails at the end.
async fn a_failed_report_does_not_stop_the_others(t: &TestDb) {
    seed(t).await;
    let paris = create_user(t, "agent75", false).await;
    users::set_departments(&t.db, paris, &[PARIS.to_owned()])
        .await
        .unwrap();
    match t.db.engine() {
        wif::store::Engine::Sqlite => {
            execute(
                t,
                &["CREATE TRIGGER refuse_agent13 BEFORE INSERT ON emails \
                   WHEN NEW.recipient = 'agent13@dreets.gouv.fr' \
                   BEGIN SELECT RAISE(ABORT, 'enregistrement refusé'); END"],
            )
            .await
        }
        wif::store::Engine::Postgres => {
            execute(
                t,
                &[
                    "CREATE FUNCTION refuse_agent13() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'enregistrement refusé'; END $$",
                    "CREATE TRIGGER refuse_agent13 BEFORE INSERT ON emails FOR EACH ROW \
                     WHEN (NEW.recipient = 'agent13@dreets.gouv.fr') \
                     EXECUTE FUNCTION refuse_agent13()",
                ],
            )
            .await
        }
    }
    let server = SmtpServer::start(t.dir.path());
    let smtp = format!("smtp://127.0.0.1:{}?tls=none", server.port);
    let vars = [
        ("WIF_DATABASE_URL", t.url.as_str()),
        ("WIF_SMTP_URL", smtp.as_str()),
        ("WIF_EMAIL_FROM", "ne-pas-repondre@wif.example"),
        ("WIF_REPORTS_RECIPIENTS", "pilotage@dreets.gouv.fr"),
    ];
    let output = common::wif(
        t.dir.path(),
        &vars,
        &["report", "--month", "2026-10", "--send"],
        "",
    );
    let err = common::stderr(&output);
    assert!(!output.status.success(), "{err}");
    let sentence =
        "le rapport mensuel de octobre 2026 (13 - Bouches-du-Rhône) n'a pas été envoyé : ";
    assert_eq!(err.matches(sentence).count(), 1, "{err}");
    assert!(err.contains("enregistrement refusé"), "{err}");
    assert!(err.contains("erreur : 1 e-mail(s) de rapport"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // Bouches-du-Rhône comes first; Paris is sent after it all the same.
    let recorded: Vec<String> = emails::latest(&t.db, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.sent)
        .map(|e| e.recipient)
        .collect();
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    for to in ["agent75@dreets.gouv.fr", "pilotage@dreets.gouv.fr"] {
        assert!(recorded.iter().any(|r| r == to), "{to}");
        assert!(
            server.messages().iter().any(|m| header(m, "To") == to),
            "{to}"
        );
    }
}

fn key(department: Option<&str>) -> emails::ReportKey<'_> {
    emails::ReportKey {
        month: october(),
        department,
    }
}

async fn recorded(t: &TestDb, to: &str, subject: &str, key: emails::ReportKey<'_>, sent: bool) {
    let outcome = emails::Outcome {
        kind: reports::EMAIL_KIND,
        recipient: to,
        subject,
        at: at("2026-11-01T06:00:00Z"),
        error: (!sent).then_some("550 refusé"),
    };
    emails::record_report(&t.db, &outcome, key).await.unwrap();
}

/// A report's e-mail goes once per (month, département, recipient): its subject plays no part,
/// so that rewording it sends nothing again.
async fn report_e_mails_are_sent_once_per_month_departement_and_recipient(t: &TestDb) {
    seed(t).await;
    let paris = create_user(t, "agent75", false).await;
    users::set_departments(&t.db, paris, &[PARIS.to_owned()])
        .await
        .unwrap();
    let (agent75, agent13, pilotage) = (
        "agent75@dreets.gouv.fr",
        "agent13@dreets.gouv.fr",
        "pilotage@dreets.gouv.fr",
    );
    // Sent before under another subject: not again.
    recorded(t, agent75, "Ancien objet", key(Some(PARIS)), true).await;
    // Failed, or another month, or another report: these do not count.
    recorded(t, agent13, "Ancien objet", key(Some(BOUCHES)), false).await;
    let september = emails::ReportKey {
        month: october().previous(),
        department: Some(BOUCHES),
    };
    recorded(t, agent13, "Ancien objet", september, true).await;
    recorded(t, pilotage, "Ancien objet", key(Some(PARIS)), true).await;

    let server = SmtpServer::start(t.dir.path());
    let smtp = format!("smtp://127.0.0.1:{}?tls=none", server.port);
    let settings = settings(&[
        ("WIF_SMTP_URL", &smtp),
        ("WIF_EMAIL_FROM", "ne-pas-repondre@wif.example"),
        ("WIF_REPORTS_RECIPIENTS", pilotage),
    ]);
    let mailer = wif::mail::Mailer::new(&settings.email).unwrap();
    let mailing = reports::send(&t.db, &mailer, &settings, october())
        .await
        .unwrap();
    assert_eq!((mailing.sent, mailing.failed), (2, 0));
    let mut to: Vec<String> = server.messages().iter().map(|m| header(m, "To")).collect();
    to.sort();
    assert_eq!(to, [agent13, pilotage]);

    // The subjects reworded since: nothing goes twice.
    execute(t, &["UPDATE emails SET subject = 'Objet reformulé'"]).await;
    let again = reports::send(&t.db, &mailer, &settings, october())
        .await
        .unwrap();
    assert_eq!((again.sent, again.failed), (0, 0));
    assert_eq!(server.messages().len(), 2);
    // Another month is another report.
    let november = reports::send(&t.db, &mailer, &settings, october().next())
        .await
        .unwrap();
    assert_eq!((november.sent, november.failed), (3, 0));
}

#[tokio::test]
async fn migration_0017_keeps_the_reports_already_sent_sqlite() {
    reports_sent_before_0017(&TestDb::sqlite(false).await).await;
}

#[tokio::test]
async fn migration_0017_keeps_the_reports_already_sent_postgres() {
    if let Some(t) = TestDb::postgres(false).await {
        reports_sent_before_0017(&t).await;
    }
}

/// The e-mails recorded before the key existed, with the subject they had then: the reports
/// they carried are not sent again; the failed one is.
async fn reports_sent_before_0017(t: &TestDb) {
    let old = |place: &str| format!("Work in France : rapport mensuel de octobre 2026 ({place})");
    let rows = [
        ("pilotage@dreets.gouv.fr", old("France entière"), true),
        ("agent75@dreets.gouv.fr", old(PARIS), true),
        ("agent13@dreets.gouv.fr", old(BOUCHES), false),
        (
            "agent13@dreets.gouv.fr",
            "Work in France : rapport mensuel de septembre 2026 (13 - Bouches-du-Rhône)".to_owned(),
            true,
        ),
    ];
    macro_rules! before_0017 {
        ($pool:expr, $migrations:literal) => {{
            let mut migrator = sqlx::migrate!($migrations);
            migrator.migrations = migrator
                .migrations
                .iter()
                .filter(|m| m.version < 17)
                .cloned()
                .collect::<Vec<_>>()
                .into();
            migrator.run($pool).await.unwrap();
            for (to, subject, sent) in &rows {
                sqlx::query(
                    "INSERT INTO emails (kind, recipient, subject, at, sent, error) \
                     VALUES ('monthly_report', $1, $2, $3, $4, $5)",
                )
                .bind(*to)
                .bind(subject.as_str())
                .bind(at("2026-11-01T06:00:00Z"))
                .bind(*sent)
                .bind((!*sent).then_some("550 refusé"))
                .execute($pool)
                .await
                .unwrap();
            }
        }};
    }
    match &t.db {
        wif::store::Db::Sqlite(pool) => before_0017!(pool, "migrations/sqlite"),
        wif::store::Db::Postgres(pool) => before_0017!(pool, "migrations/postgres"),
    }
    t.db.migrate().await.unwrap();
    seed(t).await;
    let paris = create_user(t, "agent75", false).await;
    users::set_departments(&t.db, paris, &[PARIS.to_owned()])
        .await
        .unwrap();
    let server = SmtpServer::start(t.dir.path());
    let smtp = format!("smtp://127.0.0.1:{}?tls=none", server.port);
    let settings = settings(&[
        ("WIF_SMTP_URL", &smtp),
        ("WIF_EMAIL_FROM", "ne-pas-repondre@wif.example"),
        ("WIF_REPORTS_RECIPIENTS", "pilotage@dreets.gouv.fr"),
    ]);
    let mailer = wif::mail::Mailer::new(&settings.email).unwrap();
    let mailing = reports::send(&t.db, &mailer, &settings, october())
        .await
        .unwrap();
    assert_eq!((mailing.sent, mailing.failed), (1, 0));
    let to: Vec<String> = server.messages().iter().map(|m| header(m, "To")).collect();
    assert_eq!(to, ["agent13@dreets.gouv.fr"]);
}

both_engines!(
    apt_lengths_are_classed_as_the_domain_rule_says,
    the_job_is_scheduled_and_shown,
    the_report_counts_what_was_decided_in_the_month,
    the_workbook_holds_every_figure,
    the_command_writes_the_files,
    the_page_honours_the_scope,
    reports_are_e_mailed_to_the_right_people,
    hostile_departements_break_no_report,
    a_failed_report_does_not_stop_the_others,
    report_e_mails_are_sent_once_per_month_departement_and_recipient,
);
