//! Accounts limited to départements (SPEC §11), on both database engines: a limited agent walks
//! every admin page it can reach and every filter combination, and never meets another
//! département's dossier; administrators set départements on the Users page, written to the
//! access log.

mod common;

use std::collections::{BTreeSet, VecDeque};

use chrono::{Days, Utc};
use common::{ADMIN_PASSWORD, Agent, TestDb, at, create_user, dossier, start_admin};
use reqwest::StatusCode;
use wif::domain::alerts::AlertRules;
use wif::domain::{Dossier, Scope, Status};
use wif::store::alerts::{self as stored, AlertFilter};
use wif::store::{access_log, dossiers, users};

const PARIS: &str = "75 - Paris";
const SEINE_ET_MARNE: &str = "77 - Seine-et-Marne";
const HAUTS_DE_SEINE: &str = "92 - Hauts-de-Seine";

/// How many dossiers of the other département: counts made of it are numbers that appear
/// nowhere else on the pages (above 31, the days of the date hierarchy).
const OTHERS: i64 = 41;

fn rules() -> AlertRules {
    AlertRules {
        construction_days: 7,
        instruction_days: 7,
        time_zone: chrono_tz::Europe::Paris,
    }
}

/// A dossier of `department` with the names, dates and instructor that pages show.
fn person(
    ds_id: i64,
    status: Status,
    department: Option<&str>,
    name: &str,
    created: &str,
) -> Dossier {
    let mut d = dossier(ds_id, status);
    d.department = department.map(str::to_owned);
    d.nom = Some(name.to_owned());
    d.prenom = Some(format!("Pre{name}"));
    d.email = Some(format!("{}@example.org", name.to_lowercase()));
    d.nationalite = Some(format!("Nation{name}"));
    d.instructeurs = vec![format!(
        "instructeur.{}@dreets.gouv.fr",
        name.to_lowercase()
    )];
    d.created_at = Some(at(created));
    d.initiated_at = Some(at(created));
    let today = Utc::now().date_naive();
    d.date_dexpiration_titre_sejour = Some(today + Days::new(90));
    if status == Status::Closed || status == Status::Refused {
        d.processed_at = Some(Utc::now() - chrono::Duration::days(3));
    }
    d
}

/// The agent's dossiers: Paris (five, of every kind) and Seine-et-Marne (one), created in 2025;
/// the others: Hauts-de-Seine (41, in 2023) and two without a département (2024). Accepted
/// dossiers without APT dates open alerts in every group.
async fn seed(t: &TestDb) -> (Vec<Dossier>, Vec<Dossier>) {
    let mine = vec![
        person(
            1001,
            Status::Closed,
            Some(PARIS),
            "Parisien",
            "2025-03-12T09:00:00Z",
        ),
        person(
            1002,
            Status::Closed,
            Some(PARIS),
            "Lutece",
            "2025-03-13T09:00:00Z",
        ),
        person(
            1003,
            Status::Closed,
            Some(PARIS),
            "Montmartre",
            "2025-04-01T09:00:00Z",
        ),
        person(
            1004,
            Status::Refused,
            Some(PARIS),
            "Belleville",
            "2025-05-20T09:00:00Z",
        ),
        person(
            1005,
            Status::Received,
            Some(PARIS),
            "Bercy",
            "2025-06-02T09:00:00Z",
        ),
        person(
            1006,
            Status::Initiated,
            Some(SEINE_ET_MARNE),
            "Meaux",
            "2025-07-14T09:00:00Z",
        ),
    ];
    let mut others: Vec<Dossier> = (0..OTHERS)
        .map(|i| {
            let created = format!("2023-{:02}-{:02}T09:00:00Z", 1 + i % 12, 1 + i % 28);
            person(
                9001 + i,
                Status::Closed,
                Some(HAUTS_DE_SEINE),
                &format!("Zorglub{i}"),
                &created,
            )
        })
        .collect();
    others.push(person(
        9501,
        Status::Closed,
        None,
        "Sansdep",
        "2024-02-02T09:00:00Z",
    ));
    others.push(person(
        9502,
        Status::Received,
        None,
        "Nulpart",
        "2024-08-02T09:00:00Z",
    ));
    dossiers::upsert(&t.db, &mine).await.unwrap();
    dossiers::upsert(&t.db, &others).await.unwrap();
    wif::alerts::evaluate(&t.db, &rules(), Utc::now())
        .await
        .unwrap();
    (mine, others)
}

/// What the limited agent must never read: the other dossiers' numbers, names, e-mails,
/// nationalities, instructors and départements, the years only they were created in, and
/// every count that includes them.
fn forbidden(others: &[Dossier]) -> (Vec<String>, Vec<i64>) {
    let mut words = vec![
        HAUTS_DE_SEINE.to_owned(),
        "Hauts-de-Seine".to_owned(),
        "Non renseigné".to_owned(),
        "annee=2023".to_owned(),
        "annee=2024".to_owned(),
    ];
    for d in others {
        words.push(d.ds_id.get().to_string());
        for text in [&d.nom, &d.prenom, &d.email, &d.nationalite]
            .into_iter()
            .flatten()
        {
            words.push(text.clone());
        }
        words.extend(d.instructeurs.iter().cloned());
    }
    // Totals with the others: 41 of Hauts-de-Seine, with the two without département (43),
    // with the agent's six (47), all (49); accepted ones (3 + 41 + 1 = 45); open alerts of
    // accepted dossiers without APT dates (3 + 41 + 1 = 45, 44 without the agent's).
    (words, vec![OTHERS, 42, 43, 44, 45, 46, 47, 48, 49])
}

/// The first forbidden thing a page shows, if any: a word, or a count as pages print them
/// (`(41)` in a filter, `>41<` in a table or a total). A word the agent typed in the address
/// (a search, a filter) may be echoed back in the form; it must not be shown as data: a cell,
/// a link, a filter entry. Words are compared without case: pages title-case names and
/// nationalities.
fn leak(path: &str, body: &str, words: &[String], counts: &[i64]) -> Option<String> {
    let text = body.replace("\u{202f}", "").to_lowercase();
    let typed: String = path
        .split_once('?')
        .map(|(_, query)| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
        })
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(key, value)| [format!("{key}={value}"), value])
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    for word in words {
        let word = &word.to_lowercase();
        let shown = match contains_word(&typed, word) {
            false => contains_word(&text, word),
            true => [
                format!("<td>{word}</td>"),
                format!(">{word}</a>"),
                format!(">{word} ("),
                format!("/admin/dossiers/{word}\""),
            ]
            .iter()
            .any(|pattern| text.contains(pattern.as_str())),
        };
        if shown {
            return Some(word.clone());
        }
    }
    counts
        .iter()
        .flat_map(|n| [format!("({n})"), format!(">{n}<"), format!("> {n} <")])
        .find(|pattern| text.contains(pattern.as_str()))
}

/// Whether `word` is in `text` on its own, not inside a longer word or number (a token's hex).
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Every `href` of the admin a page links to, without its fragment.
fn links(body: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&amp;", "&"))
        .map(|href| href.split('#').next().unwrap_or_default().to_owned())
        .filter(|href| href.starts_with("/admin/") && !href.starts_with("/admin/static/"))
        .collect()
}

/// Follows every admin link from the given pages, breadth first, up to `limit` pages; returns
/// each page visited with its answer's status and body.
async fn crawl(
    agent: &mut Agent,
    start: &[String],
    limit: usize,
) -> Vec<(String, StatusCode, String)> {
    let mut seen: BTreeSet<String> = start.iter().cloned().collect();
    let mut queue: VecDeque<String> = start.iter().cloned().collect();
    let mut pages = Vec::new();
    while let Some(path) = queue.pop_front() {
        if pages.len() == limit {
            break;
        }
        let answer = agent.get(&path).await;
        for link in links(&answer.body) {
            if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
        pages.push((path, answer.status, answer.body));
    }
    pages
}

/// Every combination of the dossiers list's filters, with the other département's values too.
fn dossier_list_addresses() -> Vec<String> {
    let statuses = [
        "",
        "accepte",
        "refuse",
        "en_instruction",
        "en_construction",
        "sans_suite",
    ];
    let departments = ["", PARIS, SEINE_ET_MARNE, HAUTS_DE_SEINE, "Non renseigné"];
    let dates = [
        "",
        "annee=2023",
        "annee=2024",
        "annee=2025",
        "annee=2025&mois=3",
        "annee=2025&mois=3&jour=12",
        "annee=2023&mois=1&jour=1",
    ];
    let searches = [
        "",
        "9001",
        "1001",
        "Zorglub",
        "zorglub",
        "zorglub0@example.org",
        "Parisien",
        "Sansdep",
        "Pre",
    ];
    let mut addresses = Vec::new();
    for status in statuses {
        for department in departments {
            for date in dates {
                for search in searches {
                    let mut pairs: Vec<String> = Vec::new();
                    if !status.is_empty() {
                        pairs.push(format!("statut={status}"));
                    }
                    if !department.is_empty() {
                        pairs.push(
                            serde_urlencoded::to_string([("departement", department)]).unwrap(),
                        );
                    }
                    if !date.is_empty() {
                        pairs.push(date.to_owned());
                    }
                    if !search.is_empty() {
                        pairs.push(format!("q={search}"));
                    }
                    addresses.push(format!("/admin/dossiers/?{}", pairs.join("&")));
                }
            }
        }
    }
    for column in [
        "ds_id",
        "statut",
        "cree_le",
        "departement",
        "debut_apt",
        "fin_apt",
        "instructeurs",
    ] {
        for order in [column.to_owned(), format!("-{column}")] {
            for anchor in [
                "",
                "&apres=9001",
                "&avant=9041",
                "&apres=1001",
                "&avant=1006",
                "&p=2",
            ] {
                addresses.push(format!("/admin/dossiers/?o={order}{anchor}"));
            }
        }
    }
    addresses
}

fn other_pages(others: &[Dossier]) -> Vec<String> {
    let mut addresses: Vec<String> = others
        .iter()
        .map(|d| format!("/admin/dossiers/{}", d.ds_id))
        .collect();
    for status in ["", "accepte", "en_instruction"] {
        for order in ["", "ds_id", "-nom", "nationalite", "-expiration"] {
            for anchor in ["", "&apres=9001", "&avant=9041"] {
                addresses.push(format!(
                    "/admin/prefecture/?statut={status}&o={order}{anchor}"
                ));
            }
        }
    }
    for etat in ["", "resolues"] {
        for department in ["", PARIS, HAUTS_DE_SEINE, "Non renseigné"] {
            for regle in ["", "apt_dates_missing"] {
                let department =
                    serde_urlencoded::to_string([("departement", department)]).unwrap();
                addresses.push(format!(
                    "/admin/alertes/?etat={etat}&{department}&regle={regle}&p=2"
                ));
                addresses.push(format!(
                    "/admin/alertes/?etat={etat}&{department}&regle={regle}"
                ));
            }
        }
    }
    addresses
}

/// A limited agent walks every page and filter: no other département's dossier number, name or
/// count appears anywhere; another dossier's page and alert answer 404. The same walk as an
/// administrator finds them, so that the check can see a leak.
async fn a_limited_agent_never_sees_another_departement(t: &TestDb) {
    let (mine, others) = seed(t).await;
    let (words, counts) = forbidden(&others);
    let agent_id = create_user(t, "agent.paris", false).await;
    users::set_departments(
        &t.db,
        agent_id,
        &[PARIS.to_owned(), SEINE_ET_MARNE.to_owned()],
    )
    .await
    .unwrap();
    create_user(t, "marie", true).await;
    let base = start_admin(t).await;

    let mut agent = Agent::new(&base);
    agent.sign_in("agent.paris", ADMIN_PASSWORD).await;
    let mut start: Vec<String> = [
        "/admin/",
        "/admin/dossiers/",
        "/admin/prefecture/",
        "/admin/alertes/",
        "/admin/alertes/?etat=resolues",
        "/admin/stats/",
        "/admin/rapports/",
    ]
    .map(str::to_owned)
    .to_vec();
    start.extend(dossier_list_addresses());
    start.extend(other_pages(&others));
    let pages = crawl(&mut agent, &start, 3000).await;
    assert!(
        pages.len() > start.len(),
        "the walk followed the pages' links"
    );
    for (path, status, body) in &pages {
        if let Some(found) = leak(path, body, &words, &counts) {
            panic!("{path} shows « {found} », which belongs to another département");
        }
        assert!(status.as_u16() < 500, "{path}: {status}");
    }
    let status_of = |wanted: &str| {
        pages
            .iter()
            .find(|(path, _, _)| path == wanted)
            .map(|(_, status, _)| *status)
    };
    for d in &others {
        assert_eq!(
            status_of(&format!("/admin/dossiers/{}", d.ds_id)),
            Some(StatusCode::NOT_FOUND)
        );
    }
    for d in &mine {
        assert_eq!(
            status_of(&format!("/admin/dossiers/{}", d.ds_id)),
            Some(StatusCode::OK),
            "{}",
            d.ds_id
        );
    }
    // The agent's own dossiers and counts are there.
    let list = agent.get("/admin/dossiers/").await.body;
    for d in &mine {
        assert!(list.contains(&format!(">{}<", d.ds_id)), "{}", d.ds_id);
    }
    assert!(
        list.contains("<strong>6</strong> dossiers"),
        "six dossiers in all"
    );
    assert!(list.contains(&format!("{PARIS} (5)")));
    assert!(list.contains("annee=2025"));
    let search = agent.get("/admin/dossiers/?q=Zorglub").await.body;
    assert!(search.contains("<strong>0</strong> dossier"));
    // Statistics: the agent's dossiers only (the public ones stay national).
    let stats = agent.get("/admin/stats/").await.body;
    assert!(stats.contains("Nationparisien") && stats.contains("Nationmeaux"));
    let home = agent.get("/admin/").await.body;
    assert!(home.contains(&format!(
        "dans vos départements : {PARIS}, {SEINE_ET_MARNE}"
    )));
    // Pages of the whole country's activity and administration are refused.
    for path in [
        "/admin/sync/",
        "/admin/users/",
        "/admin/access-log/",
        "/admin/emails/",
    ] {
        assert_eq!(
            agent.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // Another département's alert cannot be taken into account.
    let national = AlertFilter {
        scope: Scope::National,
        resolved: false,
        code: None,
        department: None,
        ds_id: None,
    };
    let open = stored::list(&t.db, &national, 0, 1000).await.unwrap();
    let theirs = open
        .iter()
        .find(|a| a.ds_id == 9001)
        .expect("an alert of 92");
    let ours = open
        .iter()
        .find(|a| a.ds_id == 1001)
        .expect("an alert of 75");
    let csrf = agent.csrf().await;
    let refused = agent
        .post(
            &format!("/admin/alertes/{}/prise-en-compte", theirs.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let taken = agent
        .post(
            &format!("/admin/alertes/{}/prise-en-compte", ours.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER);
    let after = stored::list(&t.db, &national, 0, 1000).await.unwrap();
    let acknowledged = |id: i64| {
        after
            .iter()
            .any(|a| a.id == id && a.acknowledged_at.is_some())
    };
    assert!(!acknowledged(theirs.id));
    assert!(acknowledged(ours.id));

    // The same walk as an administrator meets the other département: the check sees leaks.
    let mut admin = Agent::new(&base);
    admin.sign_in("marie", ADMIN_PASSWORD).await;
    let start = [
        "/admin/dossiers/",
        "/admin/prefecture/",
        "/admin/alertes/",
        "/admin/dossiers/9001",
    ]
    .map(str::to_owned);
    let seen = crawl(&mut admin, &start, 4).await;
    for (path, status, body) in &seen {
        assert_eq!(*status, StatusCode::OK, "{path}");
        assert!(
            leak(path, body, &words, &counts).is_some(),
            "{path} shows the other département to an administrator"
        );
    }
}

/// A page anchor (`apres`, `avant`) forged from another département's number behaves exactly
/// like a number that does not exist, on every sort of both lists: the page's neighbours never
/// reveal that dossier's status, name, nationality or dates, nor that it exists.
async fn forged_anchors_behave_like_missing_ones(t: &TestDb) {
    let (_, others) = seed(t).await;
    let agent_id = create_user(t, "agent.paris", false).await;
    users::set_departments(
        &t.db,
        agent_id,
        &[PARIS.to_owned(), SEINE_ET_MARNE.to_owned()],
    )
    .await
    .unwrap();
    let base = start_admin(t).await;
    let mut agent = Agent::new(&base);
    agent.sign_in("agent.paris", ADMIN_PASSWORD).await;

    let lists = [
        (
            "/admin/dossiers/",
            &[
                "ds_id",
                "statut",
                "cree_le",
                "departement",
                "debut_apt",
                "fin_apt",
                "instructeurs",
            ][..],
        ),
        (
            "/admin/prefecture/",
            &[
                "expiration",
                "ds_id",
                "nationalite",
                "prenom",
                "nom",
                "statut",
            ][..],
        ),
    ];
    let missing = 8_888_888;
    let mut compared = 0;
    for (list, columns) in lists {
        for column in columns {
            for order in [column.to_string(), format!("-{column}")] {
                for direction in ["apres", "avant"] {
                    let address = |n: i64| format!("{list}?o={order}&{direction}={n}");
                    let expected = agent.get(&address(missing)).await;
                    assert_eq!(expected.status, StatusCode::OK, "{}", address(missing));
                    for d in &others {
                        let forged = agent.get(&address(d.ds_id.get())).await;
                        assert!(
                            forged.body == expected.body,
                            "{} differs from a missing anchor",
                            address(d.ds_id.get())
                        );
                        compared += 1;
                    }
                }
            }
        }
    }
    assert_eq!(compared, 13 * 2 * 2 * others.len());
    // An anchor the agent may see still moves the page: the check above can tell them apart.
    let first = agent
        .get("/admin/prefecture/?o=nom&apres=8888888")
        .await
        .body;
    let after = agent.get("/admin/prefecture/?o=nom&apres=1001").await.body;
    assert_ne!(first, after);
}

/// An alert follows its dossier when the dossier moves to another département: the old
/// département's agents no longer see it nor take it into account; the new one's do.
async fn alerts_follow_their_dossier_to_another_departement(t: &TestDb) {
    let (_, others) = seed(t).await;
    let agent_id = create_user(t, "agent.92", false).await;
    users::set_departments(&t.db, agent_id, &[HAUTS_DE_SEINE.to_owned()])
        .await
        .unwrap();
    let paris_id = create_user(t, "agent.paris", false).await;
    users::set_departments(&t.db, paris_id, &[PARIS.to_owned()])
        .await
        .unwrap();
    let base = start_admin(t).await;
    let mut agent = Agent::new(&base);
    agent.sign_in("agent.92", ADMIN_PASSWORD).await;
    let link = "/admin/dossiers/9001\"";
    assert!(agent.get("/admin/alertes/").await.body.contains(link));

    let mut moved = others[0].clone();
    assert_eq!(moved.ds_id.get(), 9001);
    moved.department = Some(PARIS.to_owned());
    moved.updated_at = Some(Utc::now());
    dossiers::upsert(&t.db, &[moved]).await.unwrap();
    let national = AlertFilter {
        scope: Scope::National,
        resolved: false,
        code: None,
        department: None,
        ds_id: Some(9001),
    };
    let alerts = stored::list(&t.db, &national, 0, 10).await.unwrap();
    assert!(!alerts.is_empty());
    assert!(
        alerts
            .iter()
            .all(|a| a.department.as_deref() == Some(PARIS))
    );

    assert!(!agent.get("/admin/alertes/").await.body.contains(link));
    let csrf = agent.csrf().await;
    let refused = agent
        .post(
            &format!("/admin/alertes/{}/prise-en-compte", alerts[0].id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let mut paris = Agent::new(&base);
    paris.sign_in("agent.paris", ADMIN_PASSWORD).await;
    assert!(paris.get("/admin/alertes/").await.body.contains(link));
}

/// An administrator sets an agent's départements on the Users page: the agent's view changes at
/// its next page, and the change is in the access log; a bad value is refused with a sentence.
async fn administrators_set_departements_on_the_users_page(t: &TestDb) {
    seed(t).await;
    let agent_id = create_user(t, "agent.paris", false).await;
    let admin_id = create_user(t, "marie", true).await;
    let base = start_admin(t).await;
    let mut agent = Agent::new(&base);
    agent.sign_in("agent.paris", ADMIN_PASSWORD).await;
    assert!(
        agent
            .get("/admin/dossiers/")
            .await
            .body
            .contains("<strong>49</strong> dossiers")
    );

    let mut admin = Agent::new(&base);
    admin.sign_in("marie", ADMIN_PASSWORD).await;
    let users_page = admin.get("/admin/users/").await.body;
    let form_path = format!("/admin/users/{agent_id}/departements");
    assert!(users_page.contains(&form_path));
    // Administrators are never limited: no form for them.
    assert_eq!(
        admin
            .get(&format!("/admin/users/{admin_id}/departements"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let form = admin.get(&form_path).await;
    assert_eq!(form.status, StatusCode::OK);
    for department in [PARIS, SEINE_ET_MARNE, HAUTS_DE_SEINE] {
        assert!(
            form.body.contains(&format!("value=\"{department}\"")),
            "{department} offered"
        );
    }
    let csrf = form.csrf();
    let saved = admin
        .post(
            &form_path,
            &[
                ("csrf", &csrf),
                ("departement", PARIS),
                ("departement", ""),
                ("departement", " 971 - Guadeloupe "),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        users::departments(&t.db, agent_id).await.unwrap(),
        [PARIS, "971 - Guadeloupe"]
    );
    let listed = admin.get("/admin/users/").await.body;
    assert!(listed.contains(&format!("{PARIS}, 971 - Guadeloupe")));
    // The agent's next page is limited.
    assert!(
        agent
            .get("/admin/dossiers/")
            .await
            .body
            .contains("<strong>5</strong> dossiers")
    );
    assert_eq!(
        agent.get("/admin/dossiers/9001").await.status,
        StatusCode::NOT_FOUND
    );

    let bad = admin
        .post(
            &form_path,
            &[("csrf", &csrf), ("departement", &"x".repeat(101))],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("par exemple « 75 - Paris »"));
    assert_eq!(
        users::departments(&t.db, agent_id).await.unwrap().len(),
        2,
        "nothing changed"
    );

    // Unticking everything gives the whole country back.
    admin.post(&form_path, &[("csrf", &csrf)]).await;
    assert!(
        users::departments(&t.db, agent_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        agent
            .get("/admin/dossiers/")
            .await
            .body
            .contains("<strong>49</strong> dossiers")
    );

    let (log, _) = access_log::page(&t.db, 50, 0).await.unwrap();
    let changes: Vec<&str> = log
        .iter()
        .filter(|e| e.action == "departments_changed")
        .map(|e| e.detail.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        changes,
        [
            "agent.paris : tous les départements",
            &format!("agent.paris : {PARIS}, 971 - Guadeloupe")
        ]
    );
    assert!(
        log.iter()
            .filter(|e| e.action == "departments_changed")
            .all(|e| e.username == "marie")
    );
    let journal = admin.get("/admin/access-log/").await.body;
    assert!(
        journal.contains("Départements d&#39;un compte modifiés")
            || journal.contains("Départements d'un compte modifiés")
    );
}

both_engines!(
    a_limited_agent_never_sees_another_departement,
    forged_anchors_behave_like_missing_ones,
    alerts_follow_their_dossier_to_another_departement,
    administrators_set_departements_on_the_users_page,
);
