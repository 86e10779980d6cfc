//! `wif import-django` as an operator runs it: a Python back office's database in PostgreSQL
//! (the schema of `DJANGO_DB.md`, `raw_json` rendered by the DS simulator's v1, awkward rows
//! included), imported into each engine, then its agents signing in over HTTP.

mod common;

use chrono::Duration;
use common::django::{DjangoAccount, DjangoDb, DjangoRow, VECTOR_100K, VECTOR_260K};
use common::{TestDb, assert_clear_failure, at, stdout, wif};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use wif::domain::account::{self, HashKind};
use wif::domain::{Dossier, DsId, Status};
use wif::store::{dossiers, users};

const PROCEDURE: &str = "1";
/// Readable synthetic dossiers of the fixture.
const SYNTHETIC: u64 = 40;
const UNKNOWN_STATUS: i64 = 900_001;
const MISSING_CHAMPS: i64 = 900_002;
const LABEL_VARIANT: i64 = 900_003;
const NO_UPDATE_TIME: i64 = 900_004;

/// The synthetic dossiers of the fixture, as DS would have given them.
fn synthetic() -> Vec<Dossier> {
    let now = at("2026-01-15T10:00:00Z");
    (0..SYNTHETIC)
        .map(|i| wif::synthetic::dossier(3, i, 1, now))
        .collect()
}

/// A dossier the Python back office kept, whose v1 document is written here by hand.
fn awkward_row(ds_id: i64, dossier: Value) -> DjangoRow {
    DjangoRow {
        ds_id,
        status: dossier["state"].as_str().unwrap_or("initiated").to_owned(),
        created_at: at("2018-04-02T08:00:00Z"),
        updated_at: dossier["updated_at"]
            .as_str()
            .map(|t| at(&t.replace('Z', "+00:00"))),
        department: String::new(),
        raw_json: json!({ "dossier": dossier }),
        champs_json: json!({}),
    }
}

fn champ(libelle: &str, value: &str) -> Value {
    json!({"value": value, "type_de_champ": {"id": 1, "libelle": libelle, "type_champ": "text",
                                            "description": "", "order_place": 1}})
}

/// The Python back office of a site: 40 dossiers as DS gave them, four awkward ones, five
/// accounts. `None` when there is no PostgreSQL to hold it.
async fn python_back_office() -> Option<DjangoDb> {
    let source = DjangoDb::create().await?;
    let mut rows: Vec<DjangoRow> = synthetic().iter().map(DjangoRow::of).collect();
    rows.push(awkward_row(
        UNKNOWN_STATUS,
        json!({"id": UNKNOWN_STATUS, "state": "en_attente_de_signature",
               "created_at": "2018-04-02T08:00:00.000Z", "updated_at": "2018-04-03T08:00:00.000Z",
               "champs": [], "champs_private": []}),
    ));
    rows.push(awkward_row(
        MISSING_CHAMPS,
        json!({"id": MISSING_CHAMPS, "state": "initiated",
               "created_at": "2018-04-02T08:00:00.000Z", "updated_at": "2018-04-02T09:00:00.000Z",
               "email": "sans.champs@example.org"}),
    ));
    rows.push(awkward_row(
        LABEL_VARIANT,
        json!({"id": LABEL_VARIANT, "state": "closed",
               "created_at": "2018-04-02T08:00:00.000Z", "updated_at": "2018-04-20T16:30:00.000Z",
               "accompagnateurs": ["agent.lyon@direccte.gouv.fr"],
               "champs": [
                   // A straight apostrophe where the form has ’, spaces, a decomposed accent.
                   champ("Date d'expiration ", "31/12/2019"),
                   champ("  Nationalite\u{301}", "MAROC"),
                   champ("Nom", "Alaoui"),
                   champ("Département qui figure sur le titre de séjour", "69 - Rhône"),
               ],
               "champs_private": [champ("Date de fin APT", "2018-10-31")]}),
    ));
    rows.push(awkward_row(
        NO_UPDATE_TIME,
        json!({"id": NO_UPDATE_TIME, "state": "received",
               "created_at": "2018-04-02T08:00:00.000Z", "updated_at": null,
               "champs": [champ("Nom", "Sans Date")]}),
    ));
    source.insert_dossiers(&rows).await;

    let joined = at("2018-03-20T10:15:00.123456Z");
    let account = |username, password, is_superuser, is_staff, is_active| DjangoAccount {
        username,
        password,
        is_superuser,
        is_staff,
        is_active,
        first_name: "",
        last_name: "",
        email: "",
        date_joined: joined,
        last_login: None,
    };
    source
        .insert_account(&DjangoAccount {
            first_name: "Marie",
            last_name: "Curie",
            email: "marie.curie@direccte.gouv.fr",
            last_login: Some(at("2021-05-03T07:45:12.5Z")),
            ..account("marie.admin", VECTOR_260K.1, true, true, true)
        })
        .await;
    for account in [
        account("paul.agent", VECTOR_100K.1, false, true, true),
        account("ancien.stagiaire", VECTOR_100K.1, false, false, true),
        account("agent.parti", VECTOR_100K.1, false, true, false),
        account(
            "compte.bloque",
            "!Xk3vQ9pL2mN8rT5wY7zA1bC4dE6fG0hJ2kL4mN6",
            false,
            true,
            true,
        ),
    ] {
        source.insert_account(&account).await;
    }
    Some(source)
}

/// `wif import-django --from <source>` on `t`'s database, with the démarche of the old `.env`.
fn import(t: &TestDb, source: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["import-django", "--from", source];
    args.extend_from_slice(extra);
    wif(
        t.dir.path(),
        &[
            ("WIF_DATABASE_URL", &t.url),
            ("DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT", PROCEDURE),
        ],
        &args,
        "",
    )
}

/// Runs the import, expecting success; returns what it printed.
fn import_ok(t: &TestDb, source: &str, extra: &[&str]) -> String {
    let output = import(t, source, extra);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
}

fn assert_lines(out: &str, expected: &[&str]) {
    for line in expected {
        assert!(
            out.lines().any(|l| l.trim() == *line),
            "{line:?} not in:\n{out}"
        );
    }
}

async fn stored(t: &TestDb, ds_id: i64) -> Option<dossiers::StoredDossier> {
    dossiers::get(&t.db, DsId::new(ds_id).unwrap())
        .await
        .unwrap()
}

both_engines!(
    imports_dossiers_and_accounts_and_a_second_run_changes_nothing,
    django_passwords_sign_in_once_then_argon2_takes_over,
    a_dry_run_writes_nothing,
    existing_accounts_and_newer_dossiers_are_left_alone,
    what_is_not_a_python_back_office_is_refused,
    hostile_accounts_are_refused_one_line_each,
);

async fn imports_dossiers_and_accounts_and_a_second_run_changes_nothing(t: &TestDb) {
    let Some(source) = python_back_office().await else {
        return;
    };
    let before = source.fingerprint().await;

    let out = import_ok(t, &source.url, &[]);
    assert_lines(
        &out,
        &[
            "Comptes (5 lus)",
            "importés comme administrateurs : 1",
            "importés comme agents : 3",
            "importés désactivés (ni staff ni superutilisateur) : 1",
            "déjà importés : 0",
            "laissés tels quels, un compte de ce nom existant déjà : 0",
            "mot de passe inutilisable, à redéfinir par un administrateur : 1 (compte.bloque)",
            "Dossiers (44 lus)",
            "créés : 43",
            "mis à jour : 0",
            "ignorés, illisibles : 1",
        ],
    );
    assert!(
        out.contains(&format!(
            "dossier {UNKNOWN_STATUS} : état « en_attente_de_signature » inconnu"
        )),
        "{out}"
    );
    assert!(!out.contains("Simulation"), "{out}");

    // Each dossier is what a v1 sync of the same document stores.
    assert_eq!(dossiers::count(&t.db).await.unwrap(), 43);
    for d in synthetic() {
        let expected = Dossier::from_v1(1, wif::fake_ds::v1::render(&d)).unwrap();
        let got = stored(t, d.ds_id.get()).await.expect("imported");
        assert_eq!(got.dossier, expected);
    }
    let bare = stored(t, MISSING_CHAMPS).await.unwrap().dossier;
    assert_eq!(bare.champs.len(), 35);
    assert!(bare.champs.values().all(Value::is_null));
    assert_eq!(bare.email.as_deref(), Some("sans.champs@example.org"));
    let variant = stored(t, LABEL_VARIANT).await.unwrap().dossier;
    assert_eq!(variant.status, Status::Closed);
    assert_eq!(variant.nationalite.as_deref(), Some("MAROC"));
    assert_eq!(
        variant.date_dexpiration_titre_sejour.map(|d| d.to_string()),
        Some("2019-12-31".into())
    );
    assert_eq!(variant.department.as_deref(), Some("69 - Rhône"));
    assert_eq!(variant.instructeurs, ["agent.lyon@direccte.gouv.fr"]);
    let undated = stored(t, NO_UPDATE_TIME).await.unwrap().dossier;
    assert_eq!(
        (undated.updated_at, undated.nom.as_deref()),
        (None, Some("Sans Date"))
    );
    assert!(stored(t, UNKNOWN_STATUS).await.is_none());

    let marie = users::find_by_username(&t.db, "marie.admin")
        .await
        .unwrap()
        .unwrap();
    assert!(marie.is_superuser && marie.is_active);
    assert_eq!(
        (marie.first_name.as_str(), marie.last_name.as_str()),
        ("Marie", "Curie")
    );
    assert_eq!(marie.email, "marie.curie@direccte.gouv.fr");
    assert_eq!(marie.created_at, at("2018-03-20T10:15:00.123456Z"));
    assert_eq!(marie.last_login_at, Some(at("2021-05-03T07:45:12.5Z")));
    assert_eq!(
        marie.password_hash, VECTOR_260K.1,
        "the Django hash is kept"
    );
    let roles: Vec<(String, bool, bool)> = users::all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.username, u.is_superuser, u.is_active))
        .collect();
    assert_eq!(
        roles,
        [
            ("agent.parti".to_owned(), false, false),
            ("ancien.stagiaire".to_owned(), false, false),
            ("compte.bloque".to_owned(), false, true),
            ("marie.admin".to_owned(), true, true),
            ("paul.agent".to_owned(), false, true),
        ]
    );

    let synced_at = stored(t, NO_UPDATE_TIME).await.unwrap().synced_at;
    let accounts = users::all(&t.db).await.unwrap();
    let again = import_ok(t, &source.url, &[]);
    assert_lines(
        &again,
        &[
            "importés comme administrateurs : 0",
            "importés comme agents : 0",
            "déjà importés : 5",
            "laissés tels quels, un compte de ce nom existant déjà : 0",
            "créés : 0",
            "mis à jour : 0",
            "inchangés (déjà là, pas plus anciens) : 43",
            "ignorés, illisibles : 1",
        ],
    );
    assert_eq!(users::all(&t.db).await.unwrap(), accounts);
    assert_eq!(
        stored(t, NO_UPDATE_TIME).await.unwrap().synced_at,
        synced_at
    );
    assert_eq!(
        source.fingerprint().await,
        before,
        "the source is only read"
    );
}

/// What a sign-in through the login form answered.
#[derive(Debug, PartialEq)]
struct SignIn {
    status: StatusCode,
    location: String,
    /// The session cookie (`name=value`), when signed in.
    session: Option<String>,
}

async fn sign_in(base: &str, username: &str, password: &str) -> SignIn {
    let client = wif::ds::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap();
    let cookie = form.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let (pair, _) = cookie.split_once(';').unwrap();
    let (_, token) = pair.split_once('=').unwrap();
    let body = serde_urlencoded::to_string([
        ("csrf", token),
        ("next", "/admin/users/"),
        ("username", username),
        ("password", password),
    ])
    .unwrap();
    let answer = client
        .post(format!("{base}/admin/login"))
        .header("cookie", pair)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let headers = answer.headers();
    SignIn {
        status: answer.status(),
        location: headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        session: headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with("wif_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned),
    }
}

/// Whether the sign-in led to the page asked for.
fn signed_in(answer: &SignIn) -> bool {
    answer.status == StatusCode::SEE_OTHER
        && answer.location == "/admin/users/"
        && answer.session.is_some()
}

async fn hash_of(t: &TestDb, username: &str) -> String {
    users::find_by_username(&t.db, username)
        .await
        .unwrap()
        .unwrap()
        .password_hash
}

async fn django_passwords_sign_in_once_then_argon2_takes_over(t: &TestDb) {
    let Some(source) = python_back_office().await else {
        return;
    };
    import_ok(t, &source.url, &[]);
    let base = common::start_admin(t).await;

    for (username, (password, django_hash)) in
        [("marie.admin", VECTOR_260K), ("paul.agent", VECTOR_100K)]
    {
        assert_eq!(hash_of(t, username).await, django_hash);
        let answer = sign_in(&base, username, password).await;
        assert!(signed_in(&answer), "{username}: {answer:?}");
        let hash = hash_of(t, username).await;
        assert!(hash.starts_with("$argon2id$"), "{username}: {hash}");
        assert!(!account::needs_rehash(&hash));
        // The same password, now checked against the Argon2id hash.
        assert!(signed_in(&sign_in(&base, username, password).await));
        assert_eq!(hash_of(t, username).await, hash, "rehashed once only");
    }
    // A wrong password; neither staff nor superuser; a deactivated agent; an unusable password.
    for (username, password) in [
        ("marie.admin", VECTOR_100K.0),
        ("ancien.stagiaire", VECTOR_100K.0),
        ("agent.parti", VECTOR_100K.0),
        ("compte.bloque", "Xk3vQ9pL2mN8rT5wY7zA1bC4dE6fG0hJ2kL4mN6"),
    ] {
        let answer = sign_in(&base, username, password).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{username}");
        assert_eq!(answer.session, None);
    }
    assert_eq!(
        account::kind(&hash_of(t, "agent.parti").await),
        HashKind::Django,
        "a refused sign-in keeps the old hash"
    );

    // The administrators see who still has an old hash.
    let session = sign_in(&base, "marie.admin", VECTOR_260K.0)
        .await
        .session
        .unwrap();
    let page = wif::ds::http_client()
        .build()
        .unwrap()
        .get(format!("{base}/admin/users/"))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("2 compte(s) gardent le mot de passe du back office Python"),
        "{page}"
    );
    assert_eq!(page.matches("ancien mot de passe").count(), 3, "{page}");
    assert_eq!(page.matches("mot de passe à définir").count(), 1);
    assert!(page.contains("Marie Curie"));
}

async fn a_dry_run_writes_nothing(t: &TestDb) {
    let Some(source) = python_back_office().await else {
        return;
    };
    let out = import_ok(t, &source.url, &["--dry-run"]);
    assert_lines(
        &out,
        &[
            "Simulation (--dry-run) : rien n'a été écrit ; voici ce que l'import ferait.",
            "à importer comme administrateurs : 1",
            "à importer comme agents : 3",
            "à créer : 43",
            "à mettre à jour : 0",
            "ignorés, illisibles : 1",
        ],
    );
    assert_eq!(dossiers::count(&t.db).await.unwrap(), 0);
    assert!(users::all(&t.db).await.unwrap().is_empty());

    import_ok(t, &source.url, &[]);
    let out = import_ok(t, &source.url, &["--dry-run"]);
    assert_lines(
        &out,
        &[
            "à créer : 0",
            "inchangés (déjà là, pas plus anciens) : 43",
            "déjà importés : 5",
        ],
    );
}

async fn existing_accounts_and_newer_dossiers_are_left_alone(t: &TestDb) {
    let Some(source) = python_back_office().await else {
        return;
    };
    let ours = common::create_user(t, "paul.agent", true).await;
    let [first, second, ..] = &synthetic()[..] else {
        unreachable!()
    };
    // Synced from DS after the Python back office last saw it: newer, kept.
    let mut newer = first.clone();
    newer.status = Status::Refused;
    newer.updated_at = newer.updated_at.map(|u| u + Duration::days(1));
    // Stored long ago: the Python back office's copy is newer, it replaces it.
    let mut older = second.clone();
    older.status = Status::Initiated;
    older.updated_at = Some(at("2017-01-01T00:00:00Z"));
    dossiers::upsert(&t.db, &[newer.clone(), older])
        .await
        .unwrap();

    let out = import_ok(t, &source.url, &[]);
    assert_lines(
        &out,
        &[
            "importés comme agents : 2",
            "laissés tels quels, un compte de ce nom existant déjà : 1 (paul.agent)",
            "créés : 41",
            "mis à jour : 1",
            "inchangés (déjà là, pas plus anciens) : 1",
        ],
    );
    let paul = users::find_by_username(&t.db, "paul.agent")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(paul.id, ours);
    assert!(paul.is_superuser, "our account, untouched");
    assert!(account::verify(common::ADMIN_PASSWORD, &paul.password_hash));
    assert_eq!(
        stored(t, first.ds_id.get()).await.unwrap().dossier.status,
        Status::Refused
    );
    assert_eq!(
        stored(t, second.ds_id.get())
            .await
            .unwrap()
            .dossier
            .updated_at,
        second.updated_at
    );
    let again = import_ok(t, &source.url, &[]);
    assert_lines(
        &again,
        &[
            "laissés tels quels, un compte de ce nom existant déjà : 1 (paul.agent)",
            "déjà importés : 4",
            "créés : 0",
            "mis à jour : 0",
        ],
    );
}

async fn what_is_not_a_python_back_office_is_refused(t: &TestDb) {
    let Some(empty) = DjangoDb::empty().await else {
        return;
    };
    assert_clear_failure(
        &import(t, &empty.url, &[]),
        "n'est pas celle d'un back office Python de Work in France (table dossiers_dossier absente)",
    );
    sqlx::raw_sql(
        "CREATE TABLE dossiers_dossier (id serial, ds_id integer, raw_json jsonb); \
         CREATE TABLE auth_user (id serial, username varchar(150), password varchar(128))",
    )
    .execute(&empty.pool)
    .await
    .unwrap();
    assert_clear_failure(
        &import(t, &empty.url, &[]),
        "colonnes absentes de auth_user : email, first_name, last_name, is_superuser",
    );
    let err = assert_clear_failure(
        &import(t, "postgres://wif:s3cret@127.0.0.1:9/ancien", &[]),
        "impossible d'ouvrir la base du back office Python PostgreSQL « 127.0.0.1:9/ancien »",
    );
    assert!(!err.contains("s3cret"), "{err}");
    assert_clear_failure(
        &import(t, "sqlite://ancien.sqlite3", &[]),
        "--from attend l'adresse PostgreSQL du back office Python",
    );
    if t.url.starts_with("postgres") {
        assert_clear_failure(
            &import(t, &t.url, &[]),
            "--from désigne la base de wif elle-même",
        );
    }
    let output = wif(
        t.dir.path(),
        &[("WIF_DATABASE_URL", &t.url)],
        &["import-django", "--from", &empty.url],
        "",
    );
    assert_clear_failure(&output, "--procedure NUMERO");
    assert_eq!(dossiers::count(&t.db).await.unwrap(), 0);
}

/// Accounts whose username or e-mail carries control characters, or whose hash declares a
/// cost we do not pay, are refused one line each, the username escaped; the others come in.
async fn hostile_accounts_are_refused_one_line_each(t: &TestDb) {
    let Some(source) = python_back_office().await else {
        return;
    };
    let hostile = |username, email, password| DjangoAccount {
        username,
        password,
        is_superuser: true,
        is_staff: true,
        is_active: true,
        first_name: "",
        last_name: "",
        email,
        date_joined: at("2019-01-01T00:00:00Z"),
        last_login: None,
    };
    // 6.7 s per wrong password if its parameters were believed.
    let costly =
        "$argon2id$v=19$m=8,t=2000000,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for account in [
        hostile("pierre.couteux", "pierre@dreets.gouv.fr", costly),
        hostile("jean\u{1b}[31m\u{7}", "", VECTOR_100K.1),
        hostile(
            "lucie",
            "lucie@dreets.gouv.fr\r\nBcc: x@y.fr",
            VECTOR_100K.1,
        ),
    ] {
        source.insert_account(&account).await;
    }

    let out = import_ok(t, &source.url, &[]);
    assert_lines(
        &out,
        &[
            "Comptes (8 lus)",
            "importés comme administrateurs : 1",
            "importés comme agents : 3",
            "refusés : 3",
            "compte « pierre.couteux » non importé : son mot de passe est haché avec des paramètres \
             trop coûteux à vérifier, que wif n'accepte pas",
            "compte « jean\\u{1b}[31m\\u{7} » non importé : le nom d'utilisateur doit compter 1 à 150 \
             lettres, chiffres ou @ . + - _",
            "compte « lucie » non importé : l'adresse e-mail contient un caractère de contrôle",
        ],
    );
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    let names: Vec<String> = users::all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        names,
        [
            "agent.parti",
            "ancien.stagiaire",
            "compte.bloque",
            "marie.admin",
            "paul.agent"
        ]
    );
    let again = import_ok(t, &source.url, &[]);
    assert_lines(&again, &["déjà importés : 5", "refusés : 3"]);
}
