//! Personal data kept for a stated time, then erased (SPEC 14), on both engines, with `--now`
//! time travel: decided dossiers a day before and after the limit, an APT ending after the
//! decision, an accepted dossier deleted on DS while its APT runs, logs, the statistics and
//! reports unchanged, the admin's lists and pages, the command and the page.

mod common;

use chrono::{DateTime, Days, NaiveDate, Utc};
use common::{ADMIN_PASSWORD, Agent, TestDb, at, create_user, dossier, start_admin};
use reqwest::StatusCode;
use wif::domain::report::Month;
use wif::domain::retention::RetentionPolicy;
use wif::domain::{Dossier, DsId, Scope, Status};
use wif::export::{Output, stats, validity_check};
use wif::store::purge::{self, PurgeCounts};
use wif::store::{access_log, dossiers};

const PARIS: chrono_tz::Tz = chrono_tz::Europe::Paris;

/// The instant every scenario runs at.
fn now() -> DateTime<Utc> {
    at("2026-12-02T10:00:00Z")
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A dossier with every kind of personal data, decided at `processed` when given.
fn person(ds_id: i64, status: Status, processed: Option<&str>, apt_end: Option<&str>) -> Dossier {
    let mut d = dossier(ds_id, status);
    d.nom = Some(format!("Nomeffacable{ds_id}"));
    d.prenom = Some(format!("Prenom{ds_id}"));
    d.email = Some(format!("etudiant{ds_id}@example.org"));
    d.siret = Some("13002526500013".into());
    d.instructeurs = vec![format!("instructeur{ds_id}@dreets.gouv.fr")];
    d.nationalite = Some("Chili".into());
    d.department = Some("75 - Paris".into());
    d.date_de_naissance = Some(date("2001-04-05"));
    d.date_dexpiration_titre_sejour = Some(date("2027-09-30"));
    d.created_at = Some(at("2024-01-10T09:00:00Z"));
    d.initiated_at = d.created_at;
    d.processed_at = processed.map(at);
    d.updated_at = Some(at("2024-01-10T09:00:00Z"));
    d.date_de_debut_apt = apt_end.map(|_| date("2024-02-01"));
    d.date_de_fin_apt = apt_end.map(date);
    d.champs
        .insert("nom".into(), format!("Nomeffacable{ds_id}").into());
    d.raw = serde_json::json!({"dossier": {"id": ds_id, "state": status.as_str(),
        "email": format!("etudiant{ds_id}@example.org")}});
    d
}

/// The cases of SPEC 14 at `now()` with the default policy (12 months, 30 days).
async fn seed(t: &TestDb) {
    let dossiers = vec![
        // Decided a day before the limit: due.
        person(1, Status::Closed, Some("2025-12-01T10:00:00Z"), None),
        // A day after: kept.
        person(2, Status::Refused, Some("2025-12-03T10:00:00Z"), None),
        // Decided long ago, but the APT ended after the decision: kept a year after its end.
        person(
            3,
            Status::Closed,
            Some("2025-01-10T10:00:00Z"),
            Some("2026-06-30"),
        ),
        // Its APT ended more than a year ago: due.
        person(
            4,
            Status::Closed,
            Some("2024-01-01T10:00:00Z"),
            Some("2025-11-30"),
        ),
        // Still being processed: kept as long as DS lists it.
        person(5, Status::Received, None, None),
        // Accepted, deleted on DS two months ago, APT running: only the validity check's data.
        person(
            6,
            Status::Closed,
            Some("2026-01-05T10:00:00Z"),
            Some("2027-03-01"),
        ),
        // Refused, deleted on DS a week ago: kept for now.
        person(7, Status::Refused, Some("2026-11-20T10:00:00Z"), None),
        // Accepted, deleted on DS two months ago, APT ended: due.
        person(
            8,
            Status::Closed,
            Some("2026-01-05T10:00:00Z"),
            Some("2026-05-01"),
        ),
        // Sans suite a day before the limit: due.
        person(
            9,
            Status::WithoutContinuation,
            Some("2025-12-01T09:59:00Z"),
            None,
        ),
    ];
    dossiers::upsert(&t.db, &dossiers).await.unwrap();
    let deleted = |id| [DsId::new(id).unwrap()];
    dossiers::mark_deleted_on_ds(&t.db, &deleted(6), at("2026-10-01T10:00:00Z"))
        .await
        .unwrap();
    dossiers::mark_deleted_on_ds(&t.db, &deleted(7), at("2026-11-25T10:00:00Z"))
        .await
        .unwrap();
    dossiers::mark_deleted_on_ds(&t.db, &deleted(8), at("2026-10-01T10:00:00Z"))
        .await
        .unwrap();
    let rules = wif::domain::alerts::AlertRules {
        construction_days: 7,
        instruction_days: 7,
        time_zone: PARIS,
    };
    wif::alerts::evaluate(&t.db, &rules, now()).await.unwrap();
}

async fn stored(t: &TestDb, id: i64) -> dossiers::StoredDossier {
    dossiers::get(&t.db, DsId::new(id).unwrap())
        .await
        .unwrap()
        .expect("an erased dossier keeps its row")
}

/// A dossier's search keys of name, first name and e-mail, as stored.
async fn search_keys(t: &TestDb, id: i64) -> (Option<String>, Option<String>, Option<String>) {
    let sql = "SELECT nom_search, prenom_search, email_search FROM dossiers WHERE ds_id = $1";
    match &t.db {
        wif::store::Db::Sqlite(pool) => sqlx::query_as(sql).bind(id).fetch_one(pool).await,
        wif::store::Db::Postgres(pool) => sqlx::query_as(sql).bind(id).fetch_one(pool).await,
    }
    .unwrap()
}

async fn purge_at(t: &TestDb, when: DateTime<Utc>, dry_run: bool) -> PurgeCounts {
    wif::purge::run(
        &t.db,
        &RetentionPolicy::default(),
        PARIS,
        when,
        dry_run,
        &|_| {},
    )
    .await
    .unwrap()
}

/// The public files and the monthly reports, as text, to compare before and after.
async fn published(t: &TestDb) -> (String, String, String) {
    let dir = t.dir.path();
    let stats_file = dir.join("stats.json");
    stats::export(&t.db, &Output::File(stats_file.clone()), now(), PARIS)
        .await
        .unwrap();
    let validity_file = dir.join("validity_check.json");
    validity_check::export(
        &t.db,
        &Output::File(validity_file.clone()),
        now().date_naive(),
    )
    .await
    .unwrap();
    let mut reports = String::new();
    for month in ["2024-01", "2025-12", "2026-01", "2026-11"] {
        let month: Month = month.parse().unwrap();
        let report = wif::reports::compute(&t.db, month, PARIS, &Scope::National)
            .await
            .unwrap();
        reports.push_str(&format!("{report:?}\n"));
    }
    (
        std::fs::read_to_string(stats_file).unwrap(),
        std::fs::read_to_string(validity_file).unwrap(),
        reports,
    )
}

/// Due dossiers lose their personal data and keep their statistical record; the others keep
/// everything; a dry run writes nothing; figures published before and after are the same.
async fn due_dossiers_are_erased_and_the_figures_stay(t: &TestDb) {
    seed(t).await;
    let (stats_before, validity_before, reports_before) = published(t).await;
    let in_validity = |text: &str, id: i64| text.contains(&format!("\"ds_id\":{id},"));
    for id in [1, 3, 4, 6, 8] {
        assert!(in_validity(&validity_before, id), "{id}: {validity_before}");
    }

    let dry = purge_at(t, now(), true).await;
    assert_eq!((dry.dossiers_erased, dry.dossiers_reduced), (4, 1));
    assert_eq!(
        stored(t, 1).await.dossier.nom.as_deref(),
        Some("Nomeffacable1")
    );
    assert!(
        stored(t, 1).await.erased_at.is_none(),
        "a dry run writes nothing"
    );

    let done = purge_at(t, now(), false).await;
    assert_eq!((done.dossiers_erased, done.dossiers_reduced), (4, 1));
    for id in [1, 4, 8, 9] {
        let s = stored(t, id).await;
        assert!(s.erased_at.is_some(), "{id} erased");
        let d = &s.dossier;
        assert_eq!(
            (d.nom.as_ref(), d.prenom.as_ref(), d.email.as_ref()),
            (None, None, None)
        );
        assert_eq!((d.siret.as_ref(), d.date_de_naissance), (None, None));
        assert_eq!(d.date_dexpiration_titre_sejour, None);
        assert!(d.instructeurs.is_empty());
        assert!(
            d.champs.values().all(|v| v.is_null()),
            "{id}: {:?}",
            d.champs
        );
        assert_eq!(d.raw, serde_json::json!({}));
        // The statistical record.
        assert_eq!(d.nationalite.as_deref(), Some("Chili"));
        assert_eq!(d.department.as_deref(), Some("75 - Paris"));
        assert!(d.processed_at.is_some() && d.created_at.is_some());
    }
    assert_eq!(
        stored(t, 4).await.dossier.date_de_fin_apt,
        Some(date("2025-11-30"))
    );
    for id in [2, 3, 5, 7] {
        let s = stored(t, id).await;
        assert!(s.erased_at.is_none() && s.reduced_at.is_none(), "{id} kept");
        assert_eq!(s.dossier.nom, Some(format!("Nomeffacable{id}")));
        assert!(s.dossier.email.is_some());
    }
    // Deleted on DS, APT running: what the validity check needs, nothing else.
    let reduced = stored(t, 6).await;
    assert!(reduced.reduced_at.is_some() && reduced.erased_at.is_none());
    assert_eq!(reduced.dossier.nom.as_deref(), Some("Nomeffacable6"));
    assert_eq!(reduced.dossier.date_de_naissance, Some(date("2001-04-05")));
    assert_eq!(reduced.dossier.email, None);
    assert!(reduced.dossier.instructeurs.is_empty());
    assert_eq!(reduced.dossier.raw, serde_json::json!({}));
    // The search keys go with what they were computed from.
    for id in [1, 4, 8, 9] {
        assert_eq!(search_keys(t, id).await, (None, None, None), "{id}");
    }
    let key = |text: &str| Some(text.to_owned());
    let (nom, prenom, email) = (key("nomeffacable6"), key("prenom6"), None);
    assert_eq!(search_keys(t, 6).await, (nom, prenom, email), "reduced");
    let (nom, prenom, email) = (
        key("nomeffacable2"),
        key("prenom2"),
        key("etudiant2@example.org"),
    );
    assert_eq!(search_keys(t, 2).await, (nom, prenom, email), "kept");

    let (stats_after, validity_after, reports_after) = published(t).await;
    assert_eq!(stats_after, stats_before, "stats.json unchanged");
    assert_eq!(reports_after, reports_before, "monthly reports unchanged");
    for id in [1, 4, 8] {
        assert!(
            !in_validity(&validity_after, id),
            "{id} erased: {validity_after}"
        );
    }
    for id in [3, 6] {
        assert!(
            in_validity(&validity_after, id),
            "{id} still verifiable: {validity_after}"
        );
    }

    // Alerts and history of erased dossiers are gone; the run is recorded once, in counts.
    let alerts = wif::store::alerts::all(&t.db, true).await.unwrap();
    assert!(
        alerts.iter().all(|a| ![1, 4, 6, 8, 9].contains(&a.ds_id)),
        "{alerts:?}"
    );
    let runs = purge::latest(&t.db, 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().any(|r| r.dry_run) && runs.iter().any(|r| !r.dry_run));
    let (log, _) = access_log::page(&t.db, 100, 0).await.unwrap();
    let lines: Vec<_> = log.iter().filter(|e| e.action == "purge").collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().any(|e| {
        e.detail
            .as_deref()
            .unwrap()
            .starts_with("4 dossiers effacés")
    }));
    assert!(log.iter().all(|e| {
        !e.detail
            .clone()
            .unwrap_or_default()
            .contains("Nomeffacable")
    }));

    // Nothing more is due: a second run erases nothing.
    let again = purge_at(t, now(), false).await;
    assert_eq!(again.dossiers_erased + again.dossiers_reduced, 0);
    // The reduced dossier goes when its APT ends (the day after its last day, in Paris).
    let after_apt = at("2027-03-01T23:30:00Z");
    let later = purge_at(t, after_apt, false).await;
    assert!(later.dossiers_erased >= 1);
    assert!(stored(t, 6).await.erased_at.is_some());
}

/// An erased dossier leaves the lists, the search and the alerts; its page says when its data
/// were erased and shows its statistical record only; the retention page shows the policy.
async fn erased_dossiers_leave_the_admin(t: &TestDb) {
    seed(t).await;
    create_user(t, "marie", true).await;
    let base = start_admin(t).await;
    let mut admin = Agent::new(&base);
    admin.sign_in("marie", ADMIN_PASSWORD).await;
    let list = admin.get("/admin/dossiers/").await.body;
    assert!(list.contains("/admin/dossiers/1\""));
    // The page says when it was computed: its figures are what must not move.
    let figures = |page: String| {
        let start = page.find("<p class=\"fr-text--sm\">Calculé").unwrap();
        let end = start + page[start..].find("</p>").unwrap();
        format!("{}{}", &page[..start], &page[end..])
    };
    let statistics = figures(admin.get("/admin/stats/").await.body);
    purge_at(t, now(), false).await;
    assert!(
        figures(admin.get("/admin/stats/").await.body) == statistics,
        "the statistics page gives the same figures"
    );

    let list = admin.get("/admin/dossiers/").await.body;
    assert!(
        !list.contains("/admin/dossiers/1\""),
        "erased: out of the list"
    );
    assert!(list.contains("/admin/dossiers/2\""), "kept: in the list");
    let search = admin.get("/admin/dossiers/?q=1").await.body;
    assert!(search.contains("<strong>0</strong> dossier"), "{search}");
    // Reduced: found by its name, no longer by its erased e-mail.
    let by_name = admin.get("/admin/dossiers/?q=nomeffacable6").await.body;
    assert!(by_name.contains("<strong>1</strong> dossier"), "{by_name}");
    let by_email = admin.get("/admin/dossiers/?q=etudiant6").await.body;
    assert!(
        by_email.contains("<strong>0</strong> dossier"),
        "{by_email}"
    );
    let alerts = admin.get("/admin/alertes/").await.body;
    assert!(!alerts.contains("/admin/dossiers/1\""));
    let page = admin.get("/admin/dossiers/1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Données personnelles effacées le"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Chili"));
    assert!(!page.body.contains("Nomeffacable1") && !page.body.contains("etudiant1@"));
    let reduced = admin.get("/admin/dossiers/6").await.body;
    assert!(reduced.contains("données réduites à la vérification d'APT"));

    let retention = admin.get("/admin/conservation/").await;
    assert_eq!(retention.status, StatusCode::OK);
    for text in [
        "12 mois après",
        "30 jours après",
        "Derniers passages",
        "effacement",
        // The instant the run erased as of (`--now`), in Paris time.
        "02/12/2026 11:00",
    ] {
        assert!(retention.body.contains(text), "{text}: {}", retention.body);
    }
    // An agent is not an administrator.
    create_user(t, "agent", false).await;
    let mut agent = Agent::new(&base);
    agent.sign_in("agent", ADMIN_PASSWORD).await;
    assert_eq!(
        agent.get("/admin/conservation/").await.status,
        StatusCode::FORBIDDEN
    );
}

/// The logs go after their time: access log and e-mails after `WIF_LOG_RETENTION_MONTHS`,
/// failed sign-ins and webhook events after 30 days, sessions at their expiry.
async fn logs_are_pruned(t: &TestDb) {
    let old = now() - Days::new(400);
    let recent = now() - Days::new(20);
    for (when, username) in [(old, "ancien"), (recent, "recent")] {
        access_log::record(
            &t.db,
            access_log::NewEntry {
                user_id: None,
                username,
                action: access_log::Action::Login,
                ds_id: None,
                address: "203.0.113.7",
                detail: None,
            },
            when,
        )
        .await
        .unwrap();
        let email = wif::store::emails::Outcome {
            kind: "alert_digest",
            recipient: "a@example.org",
            subject: "Alertes",
            at: when,
            error: None,
        };
        wif::store::emails::record(&t.db, &email, &[])
            .await
            .unwrap();
    }
    let event = |sequence| wif::domain::webhook::WebhookEvent {
        sequence,
        event_type: "dossier_modifie".into(),
        dossier_number: Some(1),
        at: None,
    };
    wif::store::webhook_events::record(&t.db, 1, &[event(1)], now() - Days::new(29))
        .await
        .unwrap();
    for when in [now() - Days::new(31), now() - Days::new(29)] {
        let long_ago = at("2000-01-01T00:00:00Z");
        let keys = ["user:x".to_owned()];
        wif::store::login_failures::attempt(&t.db, &keys, when, long_ago, |_, _| None::<()>)
            .await
            .unwrap()
            .unwrap();
    }
    let dry = purge_at(t, now(), true).await;
    let counts = purge_at(t, now(), false).await;
    assert_eq!(dry, counts);
    assert_eq!(
        (counts.access_log, counts.emails, counts.login_failures),
        (1, 1, 1)
    );
    let (log, _) = access_log::page(&t.db, 100, 0).await.unwrap();
    assert!(log.iter().any(|e| e.username == "recent"));
    assert!(!log.iter().any(|e| e.username == "ancien"));
    // A month later, the webhook event of 29 days ago is gone too.
    let later = purge_at(t, now() + Days::new(2), false).await;
    assert_eq!(later.webhook_events, 1);
}

/// The purge job is on by default every night at 3:30 (`off` turns it off); run by the
/// scheduler, it erases what is due and is recorded like the other jobs.
async fn the_job_runs_each_night(t: &TestDb) {
    let settings = |vars: &[(&str, &str)]| {
        let url = t.url.clone();
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        wif::config::Settings::from_lookup(move |key| match key {
            "WIF_DATABASE_URL" => Some(url.clone()),
            _ => vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
        })
        .unwrap()
    };
    let job = |settings: &wif::config::Settings| {
        wif::scheduler::jobs(settings)
            .into_iter()
            .find(|j| j.kind == wif::scheduler::JobKind::Purge)
    };
    assert_eq!(job(&settings(&[])).unwrap().schedule.as_str(), "30 3 * * *");
    assert!(job(&settings(&[("WIF_PURGE_SCHEDULE", "off")])).is_none());

    // A dossier decided long before the real now: the job, run now, erases it.
    dossiers::upsert(
        &t.db,
        &[person(
            1,
            Status::Closed,
            Some("2020-01-01T10:00:00Z"),
            None,
        )],
    )
    .await
    .unwrap();
    let due = Utc::now();
    let kind = wif::scheduler::JobKind::Purge;
    assert!(
        wif::store::job_runs::claim(&t.db, kind.name(), due, "a", Utc::now())
            .await
            .unwrap()
    );
    assert!(
        !wif::store::job_runs::claim(&t.db, kind.name(), due, "b", Utc::now())
            .await
            .unwrap(),
        "one instance per tick"
    );
    wif::scheduler::run_once(&t.db, &settings(&[]), kind, due).await;
    assert!(stored(t, 1).await.erased_at.is_some());
    let done = wif::store::job_runs::latest(&t.db, kind.name(), 1)
        .await
        .unwrap();
    assert_eq!(done[0].outcome, "success");
}

both_engines!(
    the_job_runs_each_night,
    due_dossiers_are_erased_and_the_figures_stay,
    erased_dossiers_leave_the_admin,
    logs_are_pruned,
);

/// On SQLite, an erased name is nowhere in the database's files afterwards: overwritten in
/// place (`secure_delete`), and the write-ahead log checkpointed.
#[tokio::test]
async fn an_erased_name_is_nowhere_in_the_sqlite_file() {
    let t = TestDb::sqlite(true).await;
    let mut many: Vec<Dossier> = (1..=2_500)
        .map(|id| person(id, Status::Closed, Some("2020-01-01T10:00:00Z"), None))
        .collect();
    for d in &mut many {
        d.nom = Some(format!("Zqxjvintrouvable{}", d.ds_id.get()));
    }
    dossiers::upsert(&t.db, &many).await.unwrap();
    let files = || {
        std::fs::read_dir(t.dir.path())
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let found = |needle: &str| {
        files()
            .iter()
            .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    };
    assert!(found("Zqxjvintrouvable"), "the check can see the names");
    assert!(
        found("zqxjvintrouvable"),
        "the check can see the search keys"
    );
    let counts = purge_at(&t, now(), false).await;
    assert_eq!(counts.dossiers_erased, 2_500, "three batches");
    assert!(
        !found("Zqxjvintrouvable"),
        "an erased name is left in the files"
    );
    assert!(
        !found("zqxjvintrouvable"),
        "an erased name's search key is left in the files"
    );
    assert!(
        !found("Nomeffacable"),
        "an erased champ is left in the files"
    );
    assert!(
        !found("etudiant1@example.org"),
        "an erased e-mail is left in the files"
    );
}
