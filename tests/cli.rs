//! The `wif` binary as an operator uses it: exit codes, messages, `.env`, both engines.

mod common;

use std::path::Path;

use common::{TestDb, assert_clear_failure, stderr, stdout, wif};
use wif::domain::account;
use wif::store::users;

const PASSWORD: &str = "correct cheval agrafe";

async fn migrate_creates_the_schema_then_changes_nothing(url: &str, dir: &Path) {
    let first = wif(dir, &[("WIF_DATABASE_URL", url)], &["migrate"], "");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains(" migration(s) appliquée(s)") && !stdout(&first).starts_with("0 "),
        "{}",
        stdout(&first)
    );

    let second = wif(dir, &[("WIF_DATABASE_URL", url)], &["migrate"], "");
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("déjà à jour"),
        "{}",
        stdout(&second)
    );

    let db = wif::store::Db::connect(url).await.unwrap();
    db.ensure_migrated().await.unwrap();
    assert_eq!(wif::store::dossiers::count(&db).await.unwrap(), 0);
}

mod migrate {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        let t = TestDb::sqlite(false).await;
        migrate_creates_the_schema_then_changes_nothing(&t.url, t.dir.path()).await;
    }

    #[tokio::test]
    async fn postgres() {
        if let Some(t) = TestDb::postgres(false).await {
            migrate_creates_the_schema_then_changes_nothing(&t.url, t.dir.path()).await;
        }
    }
}

#[tokio::test]
async fn migrate_with_no_configuration_creates_wif_sqlite3() {
    let dir = tempfile::tempdir().unwrap();
    let output = wif(dir.path(), &[], &["migrate"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("wif.sqlite3").exists());
}

#[tokio::test]
async fn the_seeds_database_variables_reach_postgresql() {
    let Some(t) = TestDb::postgres(false).await else {
        return;
    };
    // The test URL is postgres://user@host:port/name: split it into the seed's variables.
    let rest = t.url.split_once("://").unwrap().1;
    let (user, rest) = rest.split_once('@').unwrap();
    let (host_port, name) = rest.split_once('/').unwrap();
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
    let vars = [
        ("WIF_DATABASE_NAME", name),
        ("WIF_DATABASE_USER", user),
        ("WIF_DATABASE_HOST", host),
        ("WIF_DATABASE_PORT", port),
    ];
    let output = wif(t.dir.path(), &vars, &["migrate"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    t.db.ensure_migrated().await.unwrap();
}

#[tokio::test]
async fn settings_are_read_from_dot_env() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "# comme le .env du seed\nWIF_DATABASE_URL=sqlite://depuis-dotenv.sqlite3\n",
    )
    .unwrap();
    let output = wif(dir.path(), &[], &["migrate"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("depuis-dotenv.sqlite3").exists());
    assert!(!dir.path().join("wif.sqlite3").exists());
}

both_engines!(
    createsuperuser_without_input_stores_an_argon2id_hash,
    createsuperuser_reads_answers_from_a_pipe,
    createsuperuser_refuses_weak_passwords_and_taken_names,
    createuser_makes_an_agent_limited_to_departements,
);

async fn createsuperuser_without_input_stores_an_argon2id_hash(t: &TestDb) {
    let vars = [
        ("WIF_DATABASE_URL", t.url.as_str()),
        ("WIF_SUPERUSER_PASSWORD", PASSWORD),
    ];
    let args = [
        "createsuperuser",
        "--username",
        "marie",
        "--email",
        "marie.curie@dreets.gouv.fr",
        "--no-input",
    ];
    let output = wif(t.dir.path(), &vars, &args, "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("« marie » créé"));
    assert!(!stdout(&output).contains(PASSWORD) && !stderr(&output).contains(PASSWORD));

    let user = users::find_by_username(&t.db, "marie")
        .await
        .unwrap()
        .unwrap();
    assert!(user.is_superuser && user.is_active);
    assert_eq!(user.email, "marie.curie@dreets.gouv.fr");
    assert!(user.password_hash.starts_with("$argon2id$"));
    assert!(account::verify(PASSWORD, &user.password_hash));
}

/// `wif createuser --departement D` (repeatable): a read-only agent limited to those
/// départements, written to the access log; a bad département is refused before anything.
async fn createuser_makes_an_agent_limited_to_departements(t: &TestDb) {
    let vars = [
        ("WIF_DATABASE_URL", t.url.as_str()),
        ("WIF_SUPERUSER_PASSWORD", PASSWORD),
    ];
    let args = [
        "createuser",
        "--username",
        "agent.paris",
        "--email",
        "agent.paris@dreets.gouv.fr",
        "--departement",
        "92 - Hauts-de-Seine",
        "--departement",
        " 75 - Paris",
        "--no-input",
    ];
    let output = wif(t.dir.path(), &vars, &args, "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("limité à : 75 - Paris, 92 - Hauts-de-Seine"));
    let user = users::find_by_username(&t.db, "agent.paris")
        .await
        .unwrap()
        .unwrap();
    assert!(!user.is_superuser && user.is_active);
    assert!(account::verify(PASSWORD, &user.password_hash));
    assert_eq!(
        users::departments(&t.db, user.id).await.unwrap(),
        ["75 - Paris", "92 - Hauts-de-Seine"]
    );
    let (log, _) = wif::store::access_log::page(&t.db, 10, 0).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "departments_changed");
    assert_eq!(
        log[0].detail.as_deref(),
        Some("agent.paris : 75 - Paris, 92 - Hauts-de-Seine")
    );

    // Without --departement: an agent of the whole country, nothing to log.
    let national = [
        "createuser",
        "--username",
        "agent.national",
        "--email",
        "n@dreets.gouv.fr",
        "--no-input",
    ];
    let output = wif(t.dir.path(), &vars, &national, "");
    assert!(
        stdout(&output).contains("il voit toute la France"),
        "{}",
        stderr(&output)
    );
    let (log, _) = wif::store::access_log::page(&t.db, 10, 0).await.unwrap();
    assert_eq!(log.len(), 1);

    let bad = [
        "createuser",
        "--username",
        "agent.x",
        "--email",
        "x@dreets.gouv.fr",
        "--departement",
        " ",
        "--no-input",
    ];
    let output = wif(t.dir.path(), &vars, &bad, "");
    assert_clear_failure(&output, "par exemple « 75 - Paris »");
    assert!(
        users::find_by_username(&t.db, "agent.x")
            .await
            .unwrap()
            .is_none()
    );
}

async fn createsuperuser_reads_answers_from_a_pipe(t: &TestDb) {
    let vars = [("WIF_DATABASE_URL", t.url.as_str())];
    let answers = format!("paul\npaul.valery@dreets.gouv.fr\n{PASSWORD}\n{PASSWORD}\n");
    let output = wif(t.dir.path(), &vars, &["createsuperuser"], &answers);
    assert!(output.status.success(), "{}", stderr(&output));
    let user = users::find_by_username(&t.db, "paul")
        .await
        .unwrap()
        .unwrap();
    assert!(account::verify(PASSWORD, &user.password_hash));

    let mismatch = format!("jean\njean@dreets.gouv.fr\n{PASSWORD}\n{PASSWORD}!\n");
    let output = wif(t.dir.path(), &vars, &["createsuperuser"], &mismatch);
    assert_clear_failure(&output, "ne sont pas identiques");
    assert!(
        users::find_by_username(&t.db, "jean")
            .await
            .unwrap()
            .is_none()
    );
}

async fn createsuperuser_refuses_weak_passwords_and_taken_names(t: &TestDb) {
    let run = |username: &str, password: &str| {
        let vars = [
            ("WIF_DATABASE_URL", t.url.as_str()),
            ("WIF_SUPERUSER_PASSWORD", password),
        ];
        let args = [
            "createsuperuser",
            "--username",
            username,
            "--email",
            "agent@dreets.gouv.fr",
            "--no-input",
        ];
        wif(t.dir.path(), &vars, &args, "")
    };
    assert_clear_failure(&run("alice", "court"), "trop court");
    assert_clear_failure(&run("alice", "0123456789012"), "uniquement de chiffres");
    assert_clear_failure(&run("alice", "alice-alice-2024"), "trop proche");
    assert!(
        users::find_by_username(&t.db, "alice")
            .await
            .unwrap()
            .is_none()
    );

    assert!(run("alice", PASSWORD).status.success());
    assert_clear_failure(&run("alice", PASSWORD), "« alice » est déjà pris");

    let missing = wif(
        t.dir.path(),
        &[("WIF_DATABASE_URL", t.url.as_str())],
        &[
            "createsuperuser",
            "--username",
            "bob",
            "--email",
            "bob@dreets.gouv.fr",
            "--no-input",
        ],
        "",
    );
    assert_clear_failure(&missing, "WIF_SUPERUSER_PASSWORD");
}

#[tokio::test]
async fn createsuperuser_before_migrate_says_to_migrate() {
    let t = TestDb::sqlite(false).await;
    let vars = [
        ("WIF_DATABASE_URL", t.url.as_str()),
        ("WIF_SUPERUSER_PASSWORD", PASSWORD),
    ];
    let args = [
        "createsuperuser",
        "--username",
        "a",
        "--email",
        "a@b.fr",
        "--no-input",
    ];
    assert_clear_failure(&wif(t.dir.path(), &vars, &args, ""), "wif migrate");
}

#[test]
fn a_bad_setting_is_one_sentence_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("WIF_BIND", "partout", "WIF_BIND"),
        ("WIF_DEBUG", "Peut-être", "WIF_DEBUG"),
        ("WIF_DATABASE_URL", "mysql://x/y", "WIF_DATABASE_URL"),
        ("WIF_TIME_ZONE", "Mars/Olympus", "WIF_TIME_ZONE"),
        ("WIF_TRUSTED_PROXIES", "le-proxy", "WIF_TRUSTED_PROXIES"),
    ];
    for (variable, value, expected) in cases {
        let output = wif(dir.path(), &[(variable, value)], &["migrate"], "");
        assert_clear_failure(&output, expected);
    }
    // Refused at start, before any retry or listener.
    let public = wif(
        dir.path(),
        &[("WIF_CORS_ORIGINS", "*")],
        &["serve-public"],
        "",
    );
    assert_clear_failure(&public, "WIF_CORS_ORIGINS : « * » n'est pas une origine");
    for url in [
        "demarche.numerique.gouv.fr",
        "not a url",
        "ftp://demarche.numerique.gouv.fr",
    ] {
        let vars = [
            ("DEMARCHES_SIMPLIFIEES_API_URL", url),
            ("DEMARCHES_SIMPLIFIEES_API_TOKEN", "jeton"),
            ("DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT", "1"),
        ];
        let started = std::time::Instant::now();
        let sync = wif(dir.path(), &vars, &["sync-dossiers"], "");
        assert_clear_failure(&sync, "DEMARCHES_SIMPLIFIEES_API_URL");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no retries"
        );
    }
    let token = [("DEMARCHES_SIMPLIFIEES_API_TOKEN", "abc\ndef")];
    let sync = wif(dir.path(), &token, &["sync-dossiers"], "");
    let err = assert_clear_failure(&sync, "DEMARCHES_SIMPLIFIEES_API_TOKEN");
    assert!(!err.contains("abc"), "the token is never shown: {err}");
}

#[test]
fn a_misspelt_variable_is_pointed_out() {
    let dir = tempfile::tempdir().unwrap();
    let output = wif(dir.path(), &[("WIF_SECERT_KEY", "x")], &["migrate"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("WIF_SECERT_KEY") && err.contains("variable inconnue"),
        "{err}"
    );
    let clean = wif(dir.path(), &[("WIF_DEBUG", "True")], &["migrate"], "");
    assert!(!stderr(&clean).contains("variable inconnue"));
}

/// With `WIF_DEBUG` the key made for sessions stays out of the media root that the public service
/// reads, readable by its owner only; one left there by an earlier version is moved.
#[test]
fn the_debug_secret_key_is_private_and_outside_the_media_root() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(
        media.join(".wif_secret_key"),
        "ancienne-cle-de-plus-de-trente-deux-caracteres",
    )
    .unwrap();
    assert!(wif(dir.path(), &[], &["migrate"], "").status.success());
    // A taken port stops `serve` once the key is settled.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let vars = [
        ("WIF_DEBUG", "True"),
        ("WIF_MEDIA_ROOT", "media"),
        ("WIF_BIND", &taken.local_addr().unwrap().to_string()),
    ];
    let output = wif(dir.path(), &vars, &["serve", "--no-scheduler"], "");
    assert_clear_failure(&output, "WIF_BIND");
    let key = dir.path().join(".wif_secret_key");
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        "ancienne-cle-de-plus-de-trente-deux-caracteres"
    );
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!media.join(".wif_secret_key").exists());
}

/// The debug key lives next to the SQLite file, not in the working directory (a clone's key
/// would be shared by everyone running from it); a symbolic link or a short key is refused.
#[test]
fn the_debug_secret_key_lives_in_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("donnees");
    std::fs::create_dir_all(&data).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let vars = [
        ("WIF_DEBUG", "True"),
        ("WIF_DATABASE_URL", "sqlite://donnees/wif.sqlite3"),
        ("WIF_BIND", bind.as_str()),
    ];
    assert!(wif(dir.path(), &vars, &["migrate"], "").status.success());
    let serve = |dir: &std::path::Path| wif(dir, &vars, &["serve", "--no-scheduler"], "");
    assert_clear_failure(&serve(dir.path()), "WIF_BIND");
    let key = std::fs::read_to_string(data.join(".wif_secret_key")).unwrap();
    assert!(key.len() >= 32, "{key}");
    assert!(!dir.path().join(".wif_secret_key").exists());

    std::fs::write(data.join(".wif_secret_key"), "courte").unwrap();
    let err = assert_clear_failure(&serve(dir.path()), "WIF_SECRET_KEY");
    assert!(err.contains("moins de 32"), "{err}");

    std::fs::remove_file(data.join(".wif_secret_key")).unwrap();
    let elsewhere = dir.path().join("cle-d-un-autre");
    std::fs::write(&elsewhere, "x".repeat(64)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, data.join(".wif_secret_key")).unwrap();
    let err = assert_clear_failure(&serve(dir.path()), "WIF_SECRET_KEY");
    assert!(err.contains("lien symbolique"), "{err}");
}

/// `wif purge`: counts per kind of data, `--dry-run` writes nothing; a retention setting out of
/// its range stops it with one sentence naming the variable.
#[test]
fn purge_counts_and_its_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    assert!(wif(dir.path(), &[], &["migrate"], "").status.success());
    for (variable, value) in [
        ("WIF_RETENTION_MONTHS", "0"),
        ("WIF_RETENTION_MONTHS", "61"),
        ("WIF_LOG_RETENTION_MONTHS", "douze"),
        ("WIF_RETENTION_DELETED_DAYS", "-1"),
        ("WIF_PURGE_SCHEDULE", "tous les jours"),
    ] {
        let output = wif(
            dir.path(),
            &[(variable, value)],
            &["purge", "--dry-run"],
            "",
        );
        assert_clear_failure(&output, variable);
    }
    let now = ["--now", "2030-01-01T00:00:00+01:00"];
    let dry = wif(dir.path(), &[], &["purge", "--dry-run", now[0], now[1]], "");
    assert!(dry.status.success(), "{}", stderr(&dry));
    let out = stdout(&dry);
    assert!(out.contains("Essai à blanc : rien n'a été effacé"), "{out}");
    assert!(
        out.contains("0 dossiers effacés") && out.contains("sessions expirées"),
        "{out}"
    );
    let done = wif(
        dir.path(),
        &[("WIF_RETENTION_MONTHS", "60")],
        &["purge", now[0], now[1]],
        "",
    );
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(!stdout(&done).contains("Essai à blanc"));
}

#[test]
fn an_unreachable_database_is_one_sentence_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgres://wif:tres-secret@127.0.0.1:1/wif";
    let output = wif(dir.path(), &[("WIF_DATABASE_URL", url)], &["migrate"], "");
    let err = assert_clear_failure(&output, "WIF_DATABASE_URL");
    assert!(err.contains("127.0.0.1:1/wif"), "{err}");
    assert!(!err.contains("tres-secret"), "{err}");
}

#[test]
fn every_command_of_the_spec_has_a_french_help() {
    let dir = tempfile::tempdir().unwrap();
    let help = stdout(&wif(dir.path(), &[], &["--help"], ""));
    let commands = [
        ("migrate", "schéma"),
        ("createsuperuser", "superutilisateur"),
        ("sync-dossiers", "dossiers"),
        ("export-validity-check-data", "validity_check.json"),
        ("export-stats-data", "stats.json"),
        ("serve", "administration"),
        ("serve-public", "service public"),
        ("demo", "Démonstration"),
    ];
    for (command, word) in commands {
        assert!(help.contains(command), "{command} missing from --help");
        let output = wif(dir.path(), &[], &[command, "--help"], "");
        assert!(output.status.success(), "{command} --help");
        assert!(
            stdout(&output).contains(word),
            "{command}: {}",
            stdout(&output)
        );
    }
    for alias in [
        "sync_dossiers",
        "export_validity_check_data",
        "export_stats_data",
    ] {
        assert!(
            wif(dir.path(), &[], &[alias, "--help"], "")
                .status
                .success(),
            "{alias}"
        );
    }
}

#[test]
fn serve_without_a_secret_key_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    assert!(wif(dir.path(), &[], &["migrate"], "").status.success());
    let output = wif(dir.path(), &[], &["serve"], "");
    assert_clear_failure(
        &output,
        "WIF_SECRET_KEY : la clé secrète est obligatoire hors WIF_DEBUG",
    );
    let short = wif(dir.path(), &[("WIF_SECRET_KEY", "court")], &["serve"], "");
    assert_clear_failure(&short, "au moins 32 caractères");
}

#[test]
fn a_wrong_flag_is_refused_with_usage() {
    let dir = tempfile::tempdir().unwrap();
    let output = wif(dir.path(), &[], &["migrate", "--force"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--force"));
}

both_engines!(procedures_can_be_marked_as_introductions);

async fn procedures_can_be_marked_as_introductions(t: &TestDb) {
    let vars = [("WIF_DATABASE_URL", t.url.as_str())];
    let set = wif(
        t.dir.path(),
        &vars,
        &["procedures", "set-kind", "4242", "introduction"],
        "",
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let list = wif(t.dir.path(), &vars, &["procedures", "list"], "");
    assert_eq!(stdout(&list), "4242\tintroduction\t0 dossier(s)\n");
    let stored = wif::store::procedures::list(&t.db).await.unwrap();
    assert_eq!(stored[0].kind, wif::domain::ProcedureKind::Introduction);

    let bad = wif(
        t.dir.path(),
        &vars,
        &["procedures", "set-kind", "4242", "apt"],
        "",
    );
    assert_clear_failure(&bad, "authorization ou introduction");
}

both_engines!(dev_generate_adds_deterministic_dossiers_once);

/// `wif dev generate` fills a database for benchmarks: run twice, it adds nothing the second
/// time; the same seed gives the same dossiers.
async fn dev_generate_adds_deterministic_dossiers_once(t: &TestDb) {
    let vars = [("WIF_DATABASE_URL", t.url.as_str())];
    let args = ["dev", "generate", "--dossiers", "30", "--seed", "5"];
    let first = wif(t.dir.path(), &vars, &args, "");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).starts_with("30 dossiers créés"),
        "{}",
        stdout(&first)
    );
    assert!(stdout(&first).contains("Statistiques de la base mises à jour"));
    assert_eq!(wif::store::dossiers::count(&t.db).await.unwrap(), 30);

    let again = wif(t.dir.path(), &vars, &args, "");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).starts_with("0 dossiers créés"),
        "{}",
        stdout(&again)
    );
    let expected = wif::synthetic::dossier(5, 0, 1, chrono::Utc::now());
    let stored = wif::store::dossiers::get(&t.db, expected.ds_id)
        .await
        .unwrap()
        .expect("the first generated dossier is stored");
    // Names only: the dates are drawn relative to the clock.
    assert_eq!(stored.dossier.nom, expected.nom);
    assert_eq!(stored.dossier.prenom, expected.prenom);
    assert_eq!(stored.dossier.nationalite, expected.nationalite);
    // Stored as a sync stores it: DS's whole document, read back into the same dossier.
    let raw = &stored.dossier.raw;
    assert!(raw.to_string().len() > 3000, "{raw}");
    let read = wif::domain::Dossier::from_v1(1, raw.clone()).unwrap();
    assert_eq!(read.champs, stored.dossier.champs);
    assert_eq!(read.date_de_fin_apt, stored.dossier.date_de_fin_apt);
}

both_engines!(dev_generate_at_a_fixed_instant_gives_the_same_dates);

/// With `--now`, the synthetic dates end at that instant instead of the clock's: a benchmark can
/// fill its database once and find the same dossiers at every run.
async fn dev_generate_at_a_fixed_instant_gives_the_same_dates(t: &TestDb) {
    let vars = [("WIF_DATABASE_URL", t.url.as_str())];
    let now = "2025-06-15T09:30:00Z";
    let args = ["dev", "generate", "--dossiers", "20", "--now", now];
    let first = wif(t.dir.path(), &vars, &args, "");
    assert!(first.status.success(), "{}", stderr(&first));
    let now: chrono::DateTime<chrono::Utc> = now.parse().unwrap();
    for index in [0, 19] {
        let expected = wif::synthetic::dossier(1, index, 1, now);
        let stored = wif::store::dossiers::get(&t.db, expected.ds_id)
            .await
            .unwrap()
            .expect("the generated dossier is stored");
        assert_eq!(stored.dossier.created_at, expected.created_at);
        assert_eq!(stored.dossier.updated_at, expected.updated_at);
        assert_eq!(stored.dossier.processed_at, expected.processed_at);
    }
}
