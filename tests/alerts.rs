//! Alerts (SPEC 9) on both database engines: the rules over dossiers synced from the DS
//! simulator, the lifecycle of an alert, and the e-mail digests sent over TCP to an SMTP server
//! embedded in the tests (`common::smtp`).

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use common::smtp::{SmtpServer, decoded_body, header};
use common::{TestDb, at, dossier};
use indicatif::ProgressBar;
use wif::alerts::{self, DigestContext, Notification};
use wif::config::{DsSettings, EmailSettings, Secret, SmtpSetting};
use wif::domain::Scope;
use wif::domain::alerts::{AlertCode, AlertRules, StoredRule};
use wif::domain::{ApiVersion, Dossier, Status};
use wif::ds::RetryPolicy;
use wif::fake_ds::FakeDs;
use wif::mail::Mailer;
use wif::store::alerts::{self as stored, AlertRow};
use wif::store::{dossiers, emails};
use wif::sync::{self, SyncOptions};

const PROCEDURE: i64 = 4242;
const TOKEN: &str = "jeton-de-test";

fn rules() -> AlertRules {
    AlertRules {
        construction_days: 7,
        instruction_days: 7,
        time_zone: chrono_tz::Europe::Paris,
    }
}

fn ds_settings(api_url: &str) -> DsSettings {
    common::simulator_settings(api_url, PROCEDURE, TOKEN, ApiVersion::V2)
}

async fn open_alerts(t: &TestDb) -> Vec<AlertRow> {
    stored::all(&t.db, false).await.unwrap()
}

async fn codes_of(t: &TestDb, ds_id: i64) -> Vec<String> {
    let mut codes: Vec<String> = open_alerts(t)
        .await
        .into_iter()
        .filter(|a| a.ds_id == ds_id)
        .map(|a| a.code.to_string())
        .collect();
    codes.sort();
    codes
}

/// Every rule fires on the simulator's data set, read through both APIs, and no message text
/// reaches the database.
async fn every_rule_fires_on_synced_dossiers(t: &TestDb) {
    let ds = FakeDs::new(600, 7, PROCEDURE, TOKEN);
    let url = common::start_simulator(&ds).await;
    for api_version in [ApiVersion::V1, ApiVersion::V2] {
        let settings = DsSettings {
            api_version,
            ..ds_settings(&url)
        };
        let options = SyncOptions {
            full: true,
            procedure: None,
        };
        let retry = RetryPolicy::default();
        sync::run(
            &t.db,
            &settings,
            retry,
            &options,
            &ProgressBar::hidden(),
            std::future::pending(),
        )
        .await
        .unwrap();
        let evaluation = alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
        let open = open_alerts(t).await;
        assert_eq!(evaluation.open, open.len());
        let fired: BTreeSet<&str> = open.iter().map(|a| a.code.as_str()).collect();
        for code in AlertCode::ALL {
            assert!(
                fired.contains(code.as_str()),
                "{api_version:?}: {code} never fires"
            );
        }
        // The expected alerts, from the simulator's own dossiers and the pure rules.
        let now = Utc::now();
        let mut expected: Vec<(i64, String)> = ds
            .dossiers()
            .iter()
            .filter(|d| d.status != Status::Draft)
            .flat_map(|d| {
                rules()
                    .holding(
                        &wif::domain::alerts::AlertFacts {
                            status: d.status,
                            initiated_at: d.initiated_at,
                            received_at: d.received_at,
                            processed_at: d.processed_at,
                            date_de_debut_apt: d.date_de_debut_apt,
                            date_de_fin_apt: d.date_de_fin_apt,
                            applicant_message_at: d.applicant_message_at,
                        },
                        now,
                    )
                    .into_iter()
                    .map(|code| (d.ds_id.get(), code.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        expected.sort();
        let mut actual: Vec<(i64, String)> =
            open.iter().map(|a| (a.ds_id, a.code.to_string())).collect();
        actual.sort();
        assert_eq!(actual, expected, "{api_version:?}");
        for d in ds
            .dossiers()
            .iter()
            .filter(|d| d.status != Status::Draft)
            .take(200)
        {
            let stored = dossiers::get(&t.db, d.ds_id).await.unwrap().unwrap();
            assert_eq!(
                stored.dossier.applicant_message_at, d.applicant_message_at,
                "{}",
                d.ds_id
            );
            let raw = stored.dossier.raw.to_string();
            assert!(!raw.contains("question sur mon dossier"), "{raw}");
            assert!(!raw.contains("en cours d'instruction"), "{raw}");
        }
    }
}

/// An accepted dossier of démarche 1, its APT from `debut` to `fin`, handled by `instructeurs`.
fn accepted(ds_id: i64, debut: &str, fin: &str, updated: &str, instructeurs: &[&str]) -> Dossier {
    let mut d = dossier(ds_id, Status::Closed);
    d.date_de_debut_apt = NaiveDate::parse_from_str(debut, "%Y-%m-%d").ok();
    d.date_de_fin_apt = NaiveDate::parse_from_str(fin, "%Y-%m-%d").ok();
    d.processed_at = Some(Utc::now() - chrono::Duration::days(2));
    d.updated_at = Some(at(updated));
    d.instructeurs = instructeurs.iter().map(|s| s.to_string()).collect();
    d.nom = Some("Zhang".into());
    d.prenom = Some("Emma".into());
    d.date_de_naissance = NaiveDate::from_ymd_opt(1999, 12, 20);
    d.department = Some("75 - Paris".into());
    d
}

/// Opened when a rule starts to hold, resolved (and kept) when it stops, a new alert when it
/// holds again; taken into account once; resolved when the dossier leaves DS.
async fn an_alert_opens_resolves_and_reopens(t: &TestDb) {
    let broken = accepted(11, "2026-01-15", "2025-12-01", "2026-01-01T10:00:00Z", &[]);
    dossiers::upsert(&t.db, std::slice::from_ref(&broken))
        .await
        .unwrap();
    let first = alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    assert_eq!((first.opened, first.resolved, first.open), (1, 0, 1));
    assert_eq!(codes_of(t, 11).await, ["apt_dates_inverted"]);
    let opened = open_alerts(t).await.remove(0);
    assert_eq!(opened.department.as_deref(), Some("75 - Paris"));

    // Filters: by rule, by département, and the alerts of dossiers without one.
    let mut nowhere = accepted(12, "2026-01-15", "", "2026-01-01T10:00:00Z", &[]);
    nowhere.department = None;
    dossiers::upsert(&t.db, &[nowhere]).await.unwrap();
    alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    let listed = |department: Option<Option<&str>>, code: Option<AlertCode>| {
        let filter = stored::AlertFilter {
            scope: Scope::National,
            resolved: false,
            code,
            department: department.map(|d| d.map(str::to_owned)),
            ds_id: None,
        };
        async move {
            let rows = stored::list(&t.db, &filter, 0, 100).await.unwrap();
            rows.into_iter().map(|a| a.ds_id).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(Some(None), None).await, [12]);
    assert_eq!(listed(Some(Some("75 - Paris")), None).await, [11]);
    assert_eq!(listed(None, Some(AlertCode::AptDatesMissing)).await, [12]);
    assert_eq!(listed(None, None).await, [11, 12]);
    dossiers::mark_deleted_on_ds(&t.db, &[wif::domain::DsId::new(12).unwrap()], Utc::now())
        .await
        .unwrap();
    alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();

    // Evaluating again changes nothing.
    let again = alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    assert_eq!((again.opened, again.resolved, again.open), (0, 0, 1));
    assert_eq!(stored::of_dossier(&t.db, 11).await.unwrap().len(), 1);

    // « Prise en compte », once.
    let taken = stored::acknowledge(
        &t.db,
        opened.id,
        &Scope::National,
        "agent.paris",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        taken,
        Some((11, StoredRule::Current(AlertCode::AptDatesInverted)))
    );
    assert_eq!(
        stored::acknowledge(&t.db, opened.id, &Scope::National, "autre", Utc::now())
            .await
            .unwrap(),
        None
    );

    // Fixed on DS: resolved, kept with its date.
    let fixed = accepted(11, "2026-01-15", "2026-06-30", "2026-01-02T10:00:00Z", &[]);
    dossiers::upsert(&t.db, &[fixed]).await.unwrap();
    let resolution = alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    assert_eq!(
        (resolution.opened, resolution.resolved, resolution.open),
        (0, 1, 0)
    );
    let history = stored::of_dossier(&t.db, 11).await.unwrap();
    assert_eq!(history.len(), 1);
    assert!(history[0].resolved_at.is_some());
    assert_eq!(history[0].acknowledged_by.as_deref(), Some("agent.paris"));

    // Broken again: a new alert, the old one kept.
    let broken_again = accepted(11, "2026-01-15", "2026-01-14", "2026-01-03T10:00:00Z", &[]);
    dossiers::upsert(&t.db, &[broken_again]).await.unwrap();
    alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    let history = stored::of_dossier(&t.db, 11).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history.iter().filter(|a| a.resolved_at.is_none()).count(),
        1
    );
    assert_ne!(history[0].id, history[1].id);

    // Deleted on DS: no rule is evaluated on it any more.
    let ds_id = wif::domain::DsId::new(11).unwrap();
    dossiers::mark_deleted_on_ds(&t.db, &[ds_id], Utc::now())
        .await
        .unwrap();
    let gone = alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    assert_eq!((gone.resolved, gone.open), (1, 0));
    assert_eq!(
        stored::all(&t.db, true).await.unwrap().len(),
        3,
        "two of dossier 11, one of dossier 12"
    );
}

/// An alert of a rule this version no longer has (opened by an earlier one) is read as such: the
/// pages name it by its code instead of failing, and the next evaluation resolves it.
async fn a_retired_rules_alert_is_resolved_and_still_listed(t: &TestDb) {
    let fine = accepted(21, "2026-01-15", "2026-06-30", "2026-01-01T10:00:00Z", &[]);
    dossiers::upsert(&t.db, &[fine]).await.unwrap();
    macro_rules! insert {
        ($pool:expr) => {
            sqlx::query(
                "INSERT INTO alerts (ds_id, code, department, opened_at) \
                 VALUES (21, 'apt_too_short', '75 - Paris', $1)",
            )
            .bind(at("2025-06-01T08:00:00Z"))
            .execute($pool)
            .await
            .unwrap()
            .rows_affected()
        };
    }
    let inserted = match &t.db {
        wif::store::Db::Sqlite(pool) => insert!(pool),
        wif::store::Db::Postgres(pool) => insert!(pool),
    };
    assert_eq!(inserted, 1);
    let retired = StoredRule::Retired("apt_too_short".into());
    assert_eq!(open_alerts(t).await[0].code, retired);
    let shown = "Règle retirée de cette version (apt_too_short)";
    common::create_user(t, "marie", false).await;
    let mut agent = common::Agent::new(&common::start_admin(t).await);
    agent.sign_in("marie", common::ADMIN_PASSWORD).await;
    for page in ["/admin/", "/admin/alertes/"] {
        let answer = agent.get(page).await;
        assert_eq!(answer.status, reqwest::StatusCode::OK, "{page}");
    }
    let open = agent.get("/admin/alertes/").await.body;
    assert!(open.contains(shown), "{open}");

    let evaluation = alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    assert_eq!(
        (evaluation.opened, evaluation.resolved, evaluation.open),
        (0, 1, 0)
    );
    let all = stored::all(&t.db, true).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].code, retired);
    assert!(all[0].resolved_at.is_some());
    // A new instance: the counts of the first are kept a minute.
    let mut agent = common::Agent::new(&common::start_admin(t).await);
    agent.sign_in("marie", common::ADMIN_PASSWORD).await;
    let resolved = agent.get("/admin/alertes/?etat=resolues").await.body;
    assert!(resolved.contains(shown), "{resolved}");
}

fn mailer(port: u16) -> Mailer {
    Mailer::new(&EmailSettings {
        smtp: SmtpSetting::Url(Secret::new(format!("smtp://127.0.0.1:{port}?tls=none"))),
        from: "Work in France <ne-pas-repondre@wif.example>".into(),
    })
    .unwrap()
}

async fn notify(t: &TestDb, mailer: &Mailer) -> Notification {
    let ds = ds_settings("https://ds.example");
    let context = DigestContext {
        rules: &rules(),
        ds: &ds,
        time_zone: chrono_tz::Europe::Paris,
    };
    alerts::notify(&t.db, mailer, &context, Utc::now())
        .await
        .unwrap()
}

fn recipients(server: &SmtpServer) -> Vec<String> {
    let mut to: Vec<String> = server.messages().iter().map(|m| header(m, "To")).collect();
    to.sort();
    to
}

/// Each instructor gets one digest of the new alerts of their dossiers: numbers, rules and DS
/// links, never a name or a birth date; nothing twice; nothing for dossiers decided long ago.
async fn digests_reach_each_instructor_once(t: &TestDb) {
    let server = SmtpServer::start(t.dir.path());
    let mut old = accepted(
        30,
        "2026-01-15",
        "2028-01-15",
        "2026-01-01T10:00:00Z",
        &["agent.lyon@dreets.gouv.fr"],
    );
    old.processed_at = Some(Utc::now() - chrono::Duration::days(45));
    dossiers::upsert(
        &t.db,
        &[
            accepted(
                21,
                "2026-01-15",
                "2028-01-15",
                "2026-01-01T10:00:00Z",
                &["Agent.Paris@dreets.gouv.fr", "chef.ud75@dreets.gouv.fr"],
            ),
            accepted(
                22,
                "2026-01-15",
                "",
                "2026-01-01T10:00:00Z",
                &["agent.paris@dreets.gouv.fr"],
            ),
            old,
        ],
    )
    .await
    .unwrap();
    alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    assert_eq!(open_alerts(t).await.len(), 3);

    let sent = notify(t, &mailer(server.port)).await;
    assert_eq!(
        sent,
        Notification {
            sent: 2,
            failed: 0,
            notified: 3
        }
    );
    assert_eq!(
        recipients(&server),
        ["agent.paris@dreets.gouv.fr", "chef.ud75@dreets.gouv.fr"]
    );
    let to_paris = server
        .messages()
        .into_iter()
        .find(|m| header(m, "To") == "agent.paris@dreets.gouv.fr")
        .unwrap();
    let subject = header(&to_paris, "Subject");
    assert!(subject.contains("2 nouvelles alertes"), "{subject}");
    let body = decoded_body(&to_paris);
    assert!(
        body.contains("Dossier 21 : Dossier accepté : APT de plus de 12 mois"),
        "{body}"
    );
    assert!(
        body.contains("Dossier 22 : Dossier accepté : date de début ou de fin"),
        "{body}"
    );
    assert!(
        body.contains("https://ds.example/procedures/1/dossiers/21"),
        "{body}"
    );
    assert!(!body.contains("Dossier 30"), "decided 45 days ago: {body}");
    for personal in ["Zhang", "Emma", "1999", "20/12"] {
        assert!(!body.contains(personal), "{personal} in {body}");
    }

    // Nothing new: nothing sent.
    assert_eq!(
        notify(t, &mailer(server.port)).await,
        Notification::default()
    );
    assert_eq!(server.messages().len(), 2);

    // A new alert: only it, only to its instructor.
    let late = accepted(
        23,
        "2026-02-01",
        "2026-01-01",
        "2026-01-01T10:00:00Z",
        &["agent.paris@dreets.gouv.fr"],
    );
    dossiers::upsert(&t.db, &[late]).await.unwrap();
    alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    assert_eq!(notify(t, &mailer(server.port)).await.notified, 1);
    let messages = server.messages();
    assert_eq!(messages.len(), 3);
    let body = decoded_body(&messages[2]);
    assert!(
        body.contains("Dossier 23") && !body.contains("Dossier 21"),
        "{body}"
    );

    let recorded = emails::latest(&t.db, 10).await.unwrap();
    assert_eq!(recorded.len(), 3);
    assert!(recorded.iter().all(|e| e.sent && e.error.is_none()));
}

/// A server that closes the connection unanswered: the e-mail is recorded as failed, the alerts
/// stay to be notified, and the next run sends them, once.
async fn a_failed_send_is_retried_and_never_duplicated(t: &TestDb) {
    dossiers::upsert(
        &t.db,
        &[accepted(
            41,
            "2026-01-15",
            "2028-01-15",
            "2026-01-01T10:00:00Z",
            &["agent@dreets.gouv.fr"],
        )],
    )
    .await
    .unwrap();
    alerts::evaluate(&t.db, &rules(), Utc::now()).await.unwrap();
    let server = SmtpServer::start_closed(t.dir.path());
    let port = server.port;

    let refused = notify(t, &mailer(port)).await;
    assert_eq!(
        refused,
        Notification {
            sent: 0,
            failed: 1,
            notified: 0
        }
    );
    let recorded = emails::latest(&t.db, 10).await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert!(!recorded[0].sent);
    assert!(recorded[0].error.as_deref().is_some_and(|e| !e.is_empty()));
    assert_eq!(recorded[0].recipient, "agent@dreets.gouv.fr");

    server.open();
    assert_eq!(
        notify(t, &mailer(port)).await,
        Notification {
            sent: 1,
            failed: 0,
            notified: 1
        }
    );
    assert_eq!(notify(t, &mailer(port)).await, Notification::default());
    assert_eq!(recipients(&server), ["agent@dreets.gouv.fr"]);
    assert!(decoded_body(&server.messages()[0]).contains("Dossier 41"));
}

/// `wif alerts evaluate`, then `list` and `list --all --json`, as scripts use them.
async fn the_command_line_evaluates_and_lists(t: &TestDb) {
    let mut stuck = dossier(51, Status::Initiated);
    stuck.initiated_at = Some(Utc::now() - chrono::Duration::days(30));
    dossiers::upsert(
        &t.db,
        &[
            stuck,
            accepted(52, "2026-01-15", "2026-03-01", "2026-01-01T10:00:00Z", &[]),
        ],
    )
    .await
    .unwrap();
    let vars = [("WIF_DATABASE_URL", t.url.as_str())];
    let evaluated = common::wif(t.dir.path(), &vars, &["alerts", "evaluate"], "");
    assert!(evaluated.status.success(), "{}", common::stderr(&evaluated));
    assert!(
        common::stdout(&evaluated).contains("2 dossiers évalués : 1 alertes ouvertes"),
        "{}",
        common::stdout(&evaluated)
    );

    let listed = common::wif(t.dir.path(), &vars, &["alerts", "list"], "");
    let out = common::stdout(&listed);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let fields: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(fields[..2], ["51", "construction_too_long"]);
    assert_eq!(fields[3], "-");

    // Deposited again recently: resolved, and listed with --all.
    let mut recent = dossier(51, Status::Initiated);
    recent.initiated_at = Some(Utc::now());
    recent.updated_at = Some(Utc::now());
    dossiers::upsert(&t.db, &[recent]).await.unwrap();
    common::wif(t.dir.path(), &vars, &["alerts", "evaluate"], "");
    assert_eq!(
        common::stdout(&common::wif(t.dir.path(), &vars, &["alerts", "list"], "")),
        ""
    );
    let json = common::stdout(&common::wif(
        t.dir.path(),
        &vars,
        &["alerts", "list", "--all", "--json"],
        "",
    ));
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{json}");
    assert_eq!(rows[0]["ds_id"], 51);
    assert_eq!(rows[0]["code"], "construction_too_long");
    let opened: DateTime<Utc> = rows[0]["opened_at"].as_str().unwrap().parse().unwrap();
    let resolved: DateTime<Utc> = rows[0]["resolved_at"].as_str().unwrap().parse().unwrap();
    assert!(opened <= resolved);

    // Without WIF_SMTP_URL, notify says so and sends nothing.
    let notify = common::wif(t.dir.path(), &vars, &["alerts", "notify"], "");
    assert!(notify.status.success());
    assert!(common::stdout(&notify).contains("WIF_SMTP_URL n'est pas configurée"));
}

/// `wif alerts evaluate --now` evaluates as of that instant, as a benchmark over a fixed data
/// set needs: the dossier stuck for a month then is stuck, and its alert opens at that instant.
async fn the_command_line_evaluates_as_of_a_given_instant(t: &TestDb) {
    let now = "2025-06-15T09:30:00Z";
    let mut stuck = dossier(61, Status::Initiated);
    stuck.initiated_at = Some(at("2025-05-15T09:30:00Z"));
    stuck.updated_at = stuck.initiated_at;
    dossiers::upsert(&t.db, &[stuck]).await.unwrap();
    let vars = [("WIF_DATABASE_URL", t.url.as_str())];
    let evaluated = common::wif(
        t.dir.path(),
        &vars,
        &["alerts", "evaluate", "--now", now],
        "",
    );
    assert!(evaluated.status.success(), "{}", common::stderr(&evaluated));
    assert_eq!(codes_of(t, 61).await, ["construction_too_long"]);
    assert_eq!(open_alerts(t).await[0].opened_at, at(now));
}

both_engines!(
    every_rule_fires_on_synced_dossiers,
    an_alert_opens_resolves_and_reopens,
    a_retired_rules_alert_is_resolved_and_still_listed,
    digests_reach_each_instructor_once,
    a_failed_send_is_retried_and_never_duplicated,
    the_command_line_evaluates_and_lists,
    the_command_line_evaluates_as_of_a_given_instant,
);
