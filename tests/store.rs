//! The store on both engines: dossiers and users go in and come back unchanged.

mod common;

use chrono::{Duration, Utc};
use common::TestDb;
use serde_json::Value;
use wif::domain::{Dossier, DsId, Status};
use wif::store::StoreError;
use wif::store::dossier_changes::{self, AptDates, Change};
use wif::store::dossiers::{self, UpsertCounts};
use wif::store::users::{self, NewUser};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn v1() -> Dossier {
    Dossier::from_v1(1234, fixture("dossier_v1.json")).unwrap()
}

fn v2() -> Dossier {
    Dossier::from_v2(5678, fixture("dossier_v2.json")).unwrap()
}

async fn stored(t: &TestDb, id: i64) -> dossiers::StoredDossier {
    dossiers::get(&t.db, DsId::new(id).unwrap())
        .await
        .unwrap()
        .expect("the dossier is stored")
}

both_engines!(
    dossiers_come_back_exactly_as_stored,
    a_second_upsert_writes_nothing,
    only_a_newer_update_rewrites_a_dossier,
    a_dossier_without_update_time_is_written_once,
    dossiers_gone_from_ds_are_marked_not_deleted,
    usernames_are_unique,
    a_dossiers_history_keeps_what_syncs_changed,
    a_search_ignores_case_and_accents,
    a_search_most_dossiers_match_pages_like_any_other,
);

/// The first copy's time, then each change of status, APT dates or presence on DS, the most
/// recent first; a rewrite that changes none of them adds nothing; 20 changes at most.
async fn a_dossiers_history_keeps_what_syncs_changed(t: &TestDb) {
    let mut d = v1();
    d.status = Status::Received;
    let (debut, fin) = (d.date_de_debut_apt, d.date_de_fin_apt);
    d.date_de_debut_apt = None;
    d.date_de_fin_apt = None;
    let first = Utc::now();
    dossiers::upsert(&t.db, std::slice::from_ref(&d))
        .await
        .unwrap();
    let id = d.ds_id;
    let copied = stored(t, id.get())
        .await
        .first_synced_at
        .expect("first copy recorded");
    assert!(copied >= first - Duration::seconds(1));
    assert_eq!(dossier_changes::history(&t.db, id).await.unwrap(), []);

    let newer = |d: &mut Dossier| d.updated_at = d.updated_at.map(|u| u + Duration::hours(1));
    newer(&mut d);
    d.siret = Some("11111111111111".into());
    dossiers::upsert(&t.db, std::slice::from_ref(&d))
        .await
        .unwrap();
    assert_eq!(
        dossier_changes::history(&t.db, id).await.unwrap(),
        [],
        "no change the history keeps"
    );

    newer(&mut d);
    d.status = Status::Closed;
    (d.date_de_debut_apt, d.date_de_fin_apt) = (debut, fin);
    dossiers::upsert(&t.db, std::slice::from_ref(&d))
        .await
        .unwrap();
    dossiers::mark_deleted_on_ds(&t.db, &[id], Utc::now())
        .await
        .unwrap();
    newer(&mut d);
    dossiers::upsert(&t.db, std::slice::from_ref(&d))
        .await
        .unwrap();
    let history: Vec<Change> = dossier_changes::history(&t.db, id)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, change)| change)
        .collect();
    assert_eq!(
        history,
        [
            Change::Restored,
            Change::Deleted,
            Change::Apt {
                before: AptDates::default(),
                after: AptDates { debut, fin },
            },
            Change::Status {
                before: Status::Received,
                after: Status::Closed,
            },
        ]
    );
    assert!(debut.is_some() && fin.is_some());
    assert_eq!(
        stored(t, id.get()).await.first_synced_at,
        Some(copied),
        "kept at every rewrite"
    );

    for _ in 0..15 {
        dossiers::mark_deleted_on_ds(&t.db, &[id], Utc::now())
            .await
            .unwrap();
        newer(&mut d);
        dossiers::upsert(&t.db, std::slice::from_ref(&d))
            .await
            .unwrap();
    }
    let kept = dossier_changes::history(&t.db, id).await.unwrap();
    assert_eq!(kept.len(), 20);
    assert_eq!(kept[0].2, Change::Restored, "the most recent are kept");
}

async fn dossiers_come_back_exactly_as_stored(t: &TestDb) {
    let mut with_warning = Dossier::from_v1(
        1234,
        serde_json::json!({"dossier": {"id": 3, "state": "draft", "champs": [
            {"value": "32/01/2020", "type_de_champ": {"libelle": "Date de fin APT"}}
        ]}}),
    )
    .unwrap();
    with_warning.instructeurs.clear();
    let counts = dossiers::upsert(&t.db, &[v1(), v2(), with_warning.clone()])
        .await
        .unwrap();
    assert_eq!(
        counts,
        UpsertCounts {
            created: 3,
            updated: 0,
            unchanged: 0
        }
    );
    assert_eq!(dossiers::count(&t.db).await.unwrap(), 3);

    for expected in [v1(), v2(), with_warning] {
        let got = stored(t, expected.ds_id.get()).await;
        assert_eq!(got.dossier, expected);
        assert_eq!(got.deleted_on_ds_at, None);
    }
    let d = stored(t, 184023).await.dossier;
    assert_eq!(
        d.created_at.unwrap().to_rfc3339(),
        "2024-03-05T13:12:31+00:00",
        "timestamps are kept in UTC"
    );
    assert!(
        dossiers::get(&t.db, DsId::new(999).unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_second_upsert_writes_nothing(t: &TestDb) {
    dossiers::upsert(&t.db, &[v1(), v2()]).await.unwrap();
    let first_sync = stored(t, 44950).await.synced_at;

    let again = dossiers::upsert(&t.db, &[v1(), v2()]).await.unwrap();
    assert_eq!(
        again,
        UpsertCounts {
            created: 0,
            updated: 0,
            unchanged: 2
        }
    );
    assert_eq!(stored(t, 44950).await.synced_at, first_sync);
    assert_eq!(dossiers::count(&t.db).await.unwrap(), 2);
}

async fn only_a_newer_update_rewrites_a_dossier(t: &TestDb) {
    dossiers::upsert(&t.db, &[v2()]).await.unwrap();

    let mut older = v2();
    older.status = Status::Refused;
    older.updated_at = older.updated_at.map(|u| u - Duration::seconds(1));
    let counts = dossiers::upsert(&t.db, &[older]).await.unwrap();
    assert_eq!(counts.unchanged, 1);
    assert_eq!(stored(t, 184023).await.dossier.status, Status::Closed);

    let mut newer = v2();
    newer.status = Status::WithoutContinuation;
    newer.nom = Some("Trần".into());
    newer.updated_at = newer.updated_at.map(|u| u + Duration::seconds(1));
    let counts = dossiers::upsert(&t.db, &[newer.clone()]).await.unwrap();
    assert_eq!(counts.updated, 1);
    assert_eq!(stored(t, 184023).await.dossier, newer);
}

async fn a_dossier_without_update_time_is_written_once(t: &TestDb) {
    let mut undated = v1();
    undated.updated_at = None;
    let first = dossiers::upsert(&t.db, std::slice::from_ref(&undated))
        .await
        .unwrap();
    assert_eq!(first.created, 1);
    let synced_at = stored(t, 44950).await.synced_at;
    assert_eq!(
        dossiers::preview_upsert(&t.db, &[undated.clone(), v2()])
            .await
            .unwrap(),
        UpsertCounts {
            created: 1,
            updated: 0,
            unchanged: 1
        }
    );
    let again = dossiers::upsert(&t.db, &[undated]).await.unwrap();
    assert_eq!(again.unchanged, 1, "no date is not newer than no date");
    assert_eq!(stored(t, 44950).await.synced_at, synced_at);
    assert_eq!(
        dossiers::count(&t.db).await.unwrap(),
        1,
        "a preview writes nothing"
    );

    let dated = dossiers::upsert(&t.db, &[v1()]).await.unwrap();
    assert_eq!(dated.updated, 1, "a date is newer than none");
}

async fn dossiers_gone_from_ds_are_marked_not_deleted(t: &TestDb) {
    dossiers::upsert(&t.db, &[v1(), v2()]).await.unwrap();
    let when = Utc::now();
    let gone = [DsId::new(44950).unwrap(), DsId::new(777).unwrap()];

    assert_eq!(
        dossiers::mark_deleted_on_ds(&t.db, &gone, when)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        dossiers::mark_deleted_on_ds(&t.db, &gone, when)
            .await
            .unwrap(),
        0
    );
    let marked = stored(t, 44950).await;
    assert_eq!(
        marked.deleted_on_ds_at.map(|d| d.timestamp_millis()),
        Some(when.timestamp_millis())
    );
    assert_eq!(marked.dossier, v1(), "the data is kept");
    assert_eq!(stored(t, 184023).await.deleted_on_ds_at, None);
    assert_eq!(dossiers::count(&t.db).await.unwrap(), 2);

    // Listed again with a newer update: no longer deleted.
    let mut back = v1();
    back.updated_at = back.updated_at.map(|u| u + Duration::days(1));
    dossiers::upsert(&t.db, &[back]).await.unwrap();
    assert_eq!(stored(t, 44950).await.deleted_on_ds_at, None);
}

async fn usernames_are_unique(t: &TestDb) {
    let new = |username| NewUser {
        username,
        email: "marie.curie@dreets.gouv.fr",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        is_superuser: true,
    };
    let id = users::create(&t.db, new("marie")).await.unwrap();
    let user = users::find_by_username(&t.db, "marie")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, id);
    assert!(user.is_superuser && user.is_active);
    assert_eq!(user.email, "marie.curie@dreets.gouv.fr");
    assert_eq!(user.last_login_at, None);

    let taken = users::create(&t.db, new("marie")).await.unwrap_err();
    assert!(matches!(taken, StoreError::UsernameTaken(ref name) if name == "marie"));
    assert!(
        users::find_by_username(&t.db, "Marie")
            .await
            .unwrap()
            .is_none()
    );
}

both_engines!(pages_found_beside_a_dossier_are_the_pages_counted_by_offset);

/// "Page suivante" and "page précédente" find their rows next to a dossier of the page shown:
/// walking the list either way gives every dossier once, in the order of the pages counted by
/// offset, for every sort, with empty values and ties.
async fn pages_found_beside_a_dossier_are_the_pages_counted_by_offset(t: &TestDb) {
    use wif::store::dossier_lists::{self, Column, ListQuery, PageStart};
    let now = Utc::now();
    let batch: Vec<Dossier> = (0..60)
        .map(|i| {
            let mut d = wif::synthetic::dossier(3, i, 1, now);
            if i % 7 == 0 {
                (d.created_at, d.department) = (None, None);
                (d.date_de_debut_apt, d.date_de_fin_apt) = (None, None);
            }
            d
        })
        .collect();
    dossiers::upsert(&t.db, &batch).await.unwrap();
    for sort in Column::ALL {
        for descending in [false, true] {
            let page = |start, limit| {
                let query = ListQuery {
                    scope: wif::domain::Scope::National,
                    status: None,
                    department: None,
                    created: None,
                    search: None,
                    sort,
                    descending,
                    limit,
                    start,
                };
                let db = t.db.clone();
                async move {
                    let rows = dossier_lists::page(&db, &query).await.unwrap();
                    rows.into_iter().map(|r| r.ds_id).collect::<Vec<i64>>()
                }
            };
            let all = page(PageStart::Offset(0), 1000).await;
            assert_eq!(all.len(), 60);

            let mut forwards = page(PageStart::Offset(0), 8).await;
            loop {
                let next = page(PageStart::After(*forwards.last().unwrap()), 8).await;
                if next.is_empty() {
                    break;
                }
                assert!(next.len() == 8 || forwards.len() + next.len() == 60);
                forwards.extend(next);
            }
            assert_eq!(forwards, all, "{sort:?} descending={descending}, forwards");

            let mut backwards = page(PageStart::Offset(52), 8).await;
            loop {
                let mut previous = page(PageStart::Before(backwards[0]), 8).await;
                if previous.is_empty() {
                    break;
                }
                previous.extend(backwards);
                backwards = previous;
            }
            assert_eq!(
                backwards, all,
                "{sort:?} descending={descending}, backwards"
            );
        }
    }
    let unknown = page_after_unknown(t).await;
    assert_eq!(unknown.len(), 8, "an unknown dossier gives the first page");
}

async fn page_after_unknown(t: &TestDb) -> Vec<wif::store::dossier_lists::ListRow> {
    use wif::store::dossier_lists::{self, Column, ListQuery, PageStart};
    let query = ListQuery {
        scope: wif::domain::Scope::National,
        status: None,
        department: None,
        created: None,
        search: None,
        sort: Column::CreatedAt,
        descending: true,
        limit: 8,
        start: PageStart::After(999_999_999),
    };
    dossier_lists::page(&t.db, &query).await.unwrap()
}

/// The DS numbers of the list searched with `search`, checked against its count.
async fn searched(t: &TestDb, search: &str) -> Vec<i64> {
    use wif::store::dossier_lists::{self, Column, ListQuery, PageStart};
    let query = ListQuery {
        scope: wif::domain::Scope::National,
        status: None,
        department: None,
        created: None,
        search: Some(search.to_owned()),
        sort: Column::DsId,
        descending: false,
        limit: 100,
        start: PageStart::Offset(0),
    };
    let rows = dossier_lists::page(&t.db, &query).await.unwrap();
    let ids: Vec<i64> = rows.into_iter().map(|r| r.ds_id).collect();
    let counts = dossier_lists::counts(&t.db, &query).await.unwrap();
    assert_eq!(counts.total(None, None), ids.len() as i64, "{search}");
    ids
}

/// A dossier of that name, first name and e-mail.
fn person(ds_id: i64, prenom: &str, nom: &str, email: &str) -> Dossier {
    let mut d = common::dossier(ds_id, Status::Received);
    d.prenom = Some(prenom.into());
    d.nom = Some(nom.into());
    d.email = Some(email.into());
    d.updated_at = Some(Utc::now() - Duration::days(1));
    d
}

/// A prefix that most dossiers start with (past 10,000 of them) is looked for along the list's
/// sort rather than in the keys' indexes: its pages are the same, in order, by offset or from
/// a neighbouring dossier; a rare prefix among them is still found.
async fn a_search_most_dossiers_match_pages_like_any_other(t: &TestDb) {
    use wif::store::dossier_lists::{self, Column, ListQuery, PageStart};
    let start = Utc::now() - Duration::days(400);
    let people: Vec<Dossier> = (1..=10_200)
        .map(|id| {
            let (prenom, nom) = match id % 101 {
                0 => ("Paul", "Durand"),
                _ => ("Élodie", "Martin"),
            };
            let mut d = person(id, prenom, nom, &format!("etudiant{id}@exemple.fr"));
            // Creation instants out of the numbers' order, some shared.
            d.created_at = Some(start + Duration::minutes((id * 7_919) % 5_000));
            d
        })
        .collect();
    dossiers::upsert(&t.db, &people).await.unwrap();
    let mut expected: Vec<(chrono::DateTime<Utc>, i64)> = people
        .iter()
        .filter(|d| d.prenom.as_deref() == Some("Élodie"))
        .map(|d| (d.created_at.unwrap(), d.ds_id.get()))
        .collect();
    assert!(expected.len() > 10_000);
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();

    let query = |start| ListQuery {
        scope: wif::domain::Scope::National,
        status: None,
        department: None,
        created: None,
        search: Some("ELODIE".into()),
        sort: Column::CreatedAt,
        descending: true,
        limit: 100,
        start,
    };
    let page = |start| {
        let (db, query) = (t.db.clone(), query(start));
        async move {
            let rows = dossier_lists::page(&db, &query).await.unwrap();
            rows.into_iter().map(|r| r.ds_id).collect::<Vec<i64>>()
        }
    };
    let first = page(PageStart::Offset(0)).await;
    assert_eq!(first, expected[..100]);
    let next = page(PageStart::After(*first.last().unwrap())).await;
    assert_eq!(next, expected[100..200]);
    let back = page(PageStart::Before(next[0])).await;
    assert_eq!(back, first);
    assert_eq!(
        page(PageStart::Offset(9_900)).await,
        expected[9_900..10_000]
    );
    let counts = dossier_lists::counts(&t.db, &query(PageStart::Offset(0)))
        .await
        .unwrap();
    assert_eq!(counts.total(None, None), expected.len() as i64);

    let pauls: Vec<i64> = (1..=10_200).filter(|id| id % 101 == 0).collect();
    assert_eq!(searched(t, "paul").await, pauls);
}

/// Agents type names without accents, in any case: every spelling finds the same dossiers, by
/// the start of the name, the first name or the e-mail, on both engines.
async fn a_search_ignores_case_and_accents(t: &TestDb) {
    let people = [
        person(1, "Élodie", "Dupont", "e.dupont@exemple.fr"),
        person(2, "ELODIE", "Martin", "em@exemple.fr"),
        person(3, "Jeanne", "Durand", "élodie.durand@exemple.fr"),
        person(4, "Éloïse", "Bernard", "eb@exemple.fr"),
        person(5, "Émilie", "Lodie", "emilie@exemple.fr"),
        person(6, "Mélodie", "Petit", "mp@exemple.fr"),
        person(7, "Nguyễn Văn", "Đặng", "nvd@exemple.fr"),
        person(8, "Lætitia", "Œdipe", "lo@exemple.fr"),
    ];
    dossiers::upsert(&t.db, &people).await.unwrap();
    for typed in ["elodie", "ÉLODIE", "Elodie", "Élodie", " élodie "] {
        assert_eq!(searched(t, typed).await, [1, 2, 3], "{typed}");
    }
    assert_eq!(searched(t, "elo").await, [1, 2, 3, 4]);
    assert_eq!(searched(t, "ELOI").await, [4]);
    assert_eq!(searched(t, "lodie").await, [5], "the start, not any part");
    assert_eq!(searched(t, "dupont").await, [1]);
    assert_eq!(searched(t, "EM@").await, [2]);
    assert_eq!(searched(t, "dang").await, [7]);
    assert_eq!(searched(t, "nguyen v").await, [7]);
    assert_eq!(searched(t, "oedipe").await, [8]);
    assert_eq!(searched(t, "laetitia").await, [8]);
    assert!(searched(t, "elodie martin").await.is_empty());

    // A new name is searched as soon as it is written.
    let mut renamed = person(2, "Paul", "Martin", "pm@exemple.fr");
    renamed.updated_at = Some(Utc::now());
    dossiers::upsert(&t.db, &[renamed]).await.unwrap();
    assert_eq!(searched(t, "Élodie").await, [1, 3]);
    assert_eq!(searched(t, "paul").await, [2]);
}

/// Runs `$body` with `$pool` bound to the concrete pool of either engine.
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            wif::store::Db::Sqlite($pool) => $body,
            wif::store::Db::Postgres($pool) => $body,
        }
    };
}

/// Applies the migrations up to 0018, the last one before the search keys.
async fn migrate_up_to_0018(t: &TestDb) {
    macro_rules! up_to_0018 {
        ($path:literal, $pool:expr) => {{
            let mut migrator = sqlx::migrate!($path);
            migrator.migrations = migrator
                .migrations
                .iter()
                .filter(|m| m.version <= 18)
                .cloned()
                .collect::<Vec<_>>()
                .into();
            migrator.run($pool).await.unwrap();
        }};
    }
    match &t.db {
        wif::store::Db::Sqlite(pool) => up_to_0018!("migrations/sqlite", pool),
        wif::store::Db::Postgres(pool) => up_to_0018!("migrations/postgres", pool),
    }
}

/// A dossier's first name, name and e-mail.
type Names = (i64, Option<String>, Option<String>, Option<String>);

/// Dossiers written the way migration 0018 knew them, before the search keys.
async fn insert_as_0018(t: &TestDb, rows: &[Names]) {
    let now = Utc::now();
    with_pool!(&t.db, pool => {
        sqlx::query("INSERT INTO procedures (id, created_at) VALUES (1, $1)")
            .bind(now)
            .execute(pool)
            .await
            .unwrap();
        for chunk in rows.chunks(500) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO dossiers (ds_id, procedure_id, status, champs, raw, api_version, \
                 synced_at, prenom, nom, email) ",
            );
            insert.push_values(chunk, |mut row, (ds_id, prenom, nom, email)| {
                row.push_bind(*ds_id)
                    .push_bind(1_i64)
                    .push_bind("received")
                    .push_bind(sqlx::types::Json(serde_json::json!({})))
                    .push_bind(sqlx::types::Json(serde_json::json!({})))
                    .push_bind("v2")
                    .push_bind(now)
                    .push_bind(prenom.as_deref())
                    .push_bind(nom.as_deref())
                    .push_bind(email.as_deref());
            });
            insert.build().execute(pool).await.unwrap();
        }
    });
}

/// A database upgraded with dossiers stored before the search keys finds them like new ones:
/// `wif migrate` fills their keys, in several batches, once.
async fn dossiers_stored_before_the_search_keys_are_found(t: &TestDb) {
    migrate_up_to_0018(t).await;
    let text = |s: &str| Some(s.to_owned());
    let mut rows: Vec<Names> = vec![
        (
            1,
            text("Élodie"),
            text("Dupont"),
            text("e.dupont@exemple.fr"),
        ),
        (2, text("ELODIE"), None, None),
        (3, None, None, text("élodie@exemple.fr")),
        (4, text("Éloïse"), text("Bernard"), None),
    ];
    rows.extend((5..=2_500).map(|id| (id, text("Jean"), Some(format!("Nom{id}")), None)));
    insert_as_0018(t, &rows).await;

    t.db.migrate().await.unwrap();
    for typed in ["elodie", "ÉLODIE", "Elodie", "Élodie"] {
        assert_eq!(searched(t, typed).await, [1, 2, 3], "{typed}");
    }
    assert_eq!(searched(t, "elo").await, [1, 2, 3, 4]);
    assert_eq!(searched(t, "nom2500").await, [2500], "the last batch");
    let missing: i64 = with_pool!(&t.db, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM dossiers WHERE (nom IS NULL) <> (nom_search IS NULL) \
             OR (prenom IS NULL) <> (prenom_search IS NULL) \
             OR (email IS NULL) <> (email_search IS NULL)",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(missing, 0, "a key for each name, none without one");
    assert_eq!(dossiers::fill_search_keys(&t.db).await.unwrap(), 0, "once");
}

mod dossiers_stored_before_the_search_keys_are_found {
    #[tokio::test]
    async fn sqlite() {
        let t = crate::TestDb::sqlite(false).await;
        super::dossiers_stored_before_the_search_keys_are_found(&t).await;
    }

    #[tokio::test]
    async fn postgres() {
        if let Some(t) = crate::TestDb::postgres(false).await {
            super::dossiers_stored_before_the_search_keys_are_found(&t).await;
        }
    }
}
