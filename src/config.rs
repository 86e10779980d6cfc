//! Settings from the environment and `.env` (SPEC section 3).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use crate::domain::ApiVersion;
use crate::domain::alerts::AlertRules;
use crate::domain::cron::Schedule;
use crate::domain::retention::RetentionPolicy;
use crate::http::TrustedProxies;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://wif.sqlite3";
pub const DEFAULT_DS_API_URL: &str = "https://demarche.numerique.gouv.fr";

/// A value that must never be printed: its `Debug` says so instead.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct DsSettings {
    pub token: Option<Secret>,
    pub procedure_ids: Vec<i64>,
    pub api_url: String,
    pub api_version: ApiVersion,
    pub rate_limit_per_minute: u32,
}

/// Where e-mails go (`WIF_SMTP_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpSetting {
    /// Unset: nothing is sent, and the pages say so.
    Off,
    /// `console`: each e-mail is written to the log instead of being sent.
    Console,
    /// `smtp://…` or `smtps://…`, possibly with a password.
    Url(Secret),
}

#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub smtp: SmtpSetting,
    /// `WIF_EMAIL_FROM`; required with an SMTP server.
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Secret,
    pub secret_key: Option<Secret>,
    pub debug: bool,
    pub media_root: PathBuf,
    pub bind: SocketAddr,
    pub public_bind: SocketAddr,
    pub time_zone: Tz,
    pub cors_origins: Vec<String>,
    pub ds: DsSettings,
    pub public_rate_limit_per_minute: u32,
    /// `WIF_TRUSTED_PROXIES`, or `WIF_TRUST_PROXY=True`.
    pub trusted_proxies: TrustedProxies,
    /// `WIF_ALLOWED_ORIGINS`: origins a POST may come from besides the request's own `Host`.
    pub allowed_origins: Vec<String>,
    /// `WIF_METRICS_BIND`; `None` when `off`.
    pub metrics_bind: Option<SocketAddr>,
    /// `None` when `off`.
    pub sync_schedule: Option<Schedule>,
    pub stats_schedule: Option<Schedule>,
    /// `WIF_ALERTS_SCHEDULE`: evaluation of the alerts, then the digests.
    pub alerts_schedule: Option<Schedule>,
    pub alert_rules: AlertRules,
    /// `WIF_REPORTS_SCHEDULE`: the monthly reports, e-mailed.
    pub reports_schedule: Option<Schedule>,
    /// `WIF_REPORTS_RECIPIENTS`: who receives the national report.
    pub reports_recipients: Vec<String>,
    pub email: EmailSettings,
    /// `WIF_DS_WEBHOOK_SECRETS`: one or two (during a rotation); none turns the endpoint off.
    pub webhook_secrets: Vec<Secret>,
    /// `WIF_DS_WEBHOOK_DEBOUNCE`: the wait after a webhook before the sync it triggers.
    pub webhook_debounce: std::time::Duration,
    pub log_format: LogFormat,
    /// `WIF_RETENTION_MONTHS`, `WIF_RETENTION_DELETED_DAYS`, `WIF_LOG_RETENTION_MONTHS`.
    pub retention: RetentionPolicy,
    /// `WIF_PURGE_SCHEDULE`: the erasure of what the policy says is due.
    pub purge_schedule: Option<Schedule>,
    /// What the legal pages name: the data-protection contact, the publisher, the host.
    pub legal: LegalSettings,
    /// `WIF_SHUTDOWN_GRACE`: on SIGTERM, the time the work under way gets to end (SPEC 16).
    pub shutdown_grace: std::time::Duration,
    /// `WIF_PROCONNECT_URL`, `WIF_PROCONNECT_CLIENT_ID`, `WIF_PROCONNECT_CLIENT_SECRET` and
    /// `WIF_ADMIN_URL` (SPEC 15): `None` when none of them is set.
    pub proconnect: Option<ProConnectSettings>,
    /// `WIF_PASSWORD_LOGIN`: who may still sign in with a password.
    pub password_login: PasswordLogin,
}

/// How the admin reaches ProConnect, and how ProConnect sends agents back.
#[derive(Debug, Clone)]
pub struct ProConnectSettings {
    /// The issuer, without a final `/`: discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The admin's public address, without a final `/` (`https://wif.example.gouv.fr`).
    pub admin_url: String,
    /// `WIF_PROCONNECT_MFA`: sign-ins must come with a two-factor `acr`.
    pub mfa: bool,
}

/// `WIF_PASSWORD_LOGIN` (SPEC 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordLogin {
    /// Everyone may sign in with a password (the default).
    All,
    /// Only administrators, as a way in when ProConnect is down; agents use ProConnect.
    Administrators,
    /// Nobody: ProConnect only.
    Off,
}

/// `WIF_DPO_CONTACT`, `WIF_PUBLISHER`, `WIF_HOSTING`: free text shown on the legal pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalSettings {
    pub dpo_contact: String,
    pub publisher: String,
    pub hosting: String,
}

/// A setting that cannot be used, named so that the operator knows what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} : {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl Settings {
    /// Where the program keeps what it makes for itself (the debug key): the SQLite file's
    /// directory, or the working directory with PostgreSQL or an in-memory database.
    pub fn data_dir(&self) -> PathBuf {
        let file = crate::store::sqlite_path(self.database_url.expose())
            .filter(|path| !path.is_empty() && !path.starts_with(":memory:"));
        file.and_then(|path| Path::new(path).parent())
            .filter(|dir| !dir.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Reads the process environment (see `load_dotenv`).
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so that tests do not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let parsed = |name: &'static str, default: &str| {
            let value = var(name).unwrap_or_else(|| default.to_owned());
            (name, value)
        };

        let debug = parse_bool(parsed("WIF_DEBUG", "False"))?;
        let (_, version) = parsed("DEMARCHES_SIMPLIFIEES_API_VERSION", "v2");
        let api_version = version.parse().map_err(|()| ConfigError {
            variable: "DEMARCHES_SIMPLIFIEES_API_VERSION",
            message: format!("« {version} » n'est pas une version connue (v1 ou v2)"),
        })?;
        let (_, zone) = parsed("WIF_TIME_ZONE", "Europe/Paris");
        let time_zone = zone.parse().map_err(|_| ConfigError {
            variable: "WIF_TIME_ZONE",
            message: format!(
                "« {zone} » n'est pas un fuseau horaire connu (exemple : Europe/Paris)"
            ),
        })?;
        let log_format = match parsed("WIF_LOG_FORMAT", "text")
            .1
            .to_ascii_lowercase()
            .as_str()
        {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError {
                    variable: "WIF_LOG_FORMAT",
                    message: format!("« {other} » n'est pas un format connu (text ou json)"),
                });
            }
        };

        let proconnect = proconnect(&var, debug)?;
        let password_login = password_login(parsed("WIF_PASSWORD_LOGIN", "all"), &proconnect)?;
        Ok(Settings {
            database_url: Secret(database_url(&var)?),
            secret_key: var("WIF_SECRET_KEY").map(Secret),
            debug,
            media_root: PathBuf::from(parsed("WIF_MEDIA_ROOT", "./media").1),
            bind: parse_addr(parsed("WIF_BIND", "127.0.0.1:8000"))?,
            public_bind: parse_addr(parsed("WIF_PUBLIC_BIND", "127.0.0.1:1337"))?,
            time_zone,
            cors_origins: parse_origins(parsed(
                "WIF_CORS_ORIGINS",
                "https://workinfrance.beta.gouv.fr,http://localhost:8080",
            ))?,
            ds: DsSettings {
                token: ds_token(&lookup)?,
                procedure_ids: parse_procedure_ids(&var)?,
                api_url: ds_api_url(parsed("DEMARCHES_SIMPLIFIEES_API_URL", DEFAULT_DS_API_URL))?,
                api_version,
                rate_limit_per_minute: parse_rate(parsed(
                    "DEMARCHES_SIMPLIFIEES_RATE_LIMIT",
                    "300",
                ))?,
            },
            public_rate_limit_per_minute: parse_rate(parsed("WIF_PUBLIC_RATE_LIMIT", "60"))?,
            trusted_proxies: trusted_proxies(&var)?,
            allowed_origins: parse_origins(parsed("WIF_ALLOWED_ORIGINS", ""))?,
            metrics_bind: match parsed("WIF_METRICS_BIND", "127.0.0.1:9100") {
                (_, off) if off.eq_ignore_ascii_case("off") => None,
                setting => Some(parse_addr(setting)?),
            },
            sync_schedule: schedule(parsed("WIF_SYNC_SCHEDULE", "0 9-19 * * 1-5"))?,
            stats_schedule: schedule(parsed("WIF_STATS_SCHEDULE", "0 9 * * *"))?,
            alerts_schedule: schedule(parsed("WIF_ALERTS_SCHEDULE", "0 8 * * 1-5"))?,
            alert_rules: AlertRules {
                construction_days: parse_days(parsed("WIF_ALERT_CONSTRUCTION_DAYS", "7"))?,
                instruction_days: parse_days(parsed("WIF_ALERT_INSTRUCTION_DAYS", "7"))?,
                time_zone,
            },
            reports_schedule: schedule(parsed("WIF_REPORTS_SCHEDULE", "0 7 1 * *"))?,
            reports_recipients: parse_addresses(parsed("WIF_REPORTS_RECIPIENTS", ""))?,
            email: email_settings(&var)?,
            webhook_secrets: webhook_secrets(&var)?,
            webhook_debounce: parse_duration(parsed("WIF_DS_WEBHOOK_DEBOUNCE", "5s"))?,
            log_format,
            retention: RetentionPolicy {
                months: parse_bounded(parsed("WIF_RETENTION_MONTHS", "12"), 1, 60, "mois")?,
                deleted_days: parse_bounded(
                    parsed("WIF_RETENTION_DELETED_DAYS", "30"),
                    0,
                    3650,
                    "jours",
                )?,
                log_months: parse_bounded(parsed("WIF_LOG_RETENTION_MONTHS", "12"), 1, 60, "mois")?,
            },
            purge_schedule: schedule(parsed("WIF_PURGE_SCHEDULE", "30 3 * * *"))?,
            legal: LegalSettings {
                dpo_contact: parsed("WIF_DPO_CONTACT", DEFAULT_DPO_CONTACT).1,
                publisher: parsed("WIF_PUBLISHER", DEFAULT_PUBLISHER).1,
                hosting: parsed("WIF_HOSTING", DEFAULT_HOSTING).1,
            },
            shutdown_grace: parse_duration(parsed("WIF_SHUTDOWN_GRACE", "20s"))?,
            proconnect,
            password_login,
        })
    }
}

/// The ProConnect settings: all four variables or none; the addresses must be absolute, and in
/// HTTPS unless they name this machine (a test provider) or `WIF_DEBUG` is on.
fn proconnect(
    var: &impl Fn(&str) -> Option<String>,
    debug: bool,
) -> Result<Option<ProConnectSettings>, ConfigError> {
    const NAMES: [&str; 4] = [
        "WIF_PROCONNECT_URL",
        "WIF_PROCONNECT_CLIENT_ID",
        "WIF_PROCONNECT_CLIENT_SECRET",
        "WIF_ADMIN_URL",
    ];
    let values = NAMES.map(var);
    let missing: Vec<&str> = NAMES
        .iter()
        .zip(&values)
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| *name)
        .collect();
    if missing.len() == NAMES.len() {
        return Ok(None);
    }
    if let Some(first) = missing.first() {
        return Err(ConfigError {
            variable: first,
            message: format!(
                "la connexion ProConnect demande les quatre variables {} ; il manque {}",
                NAMES.join(", "),
                missing.join(", ")
            ),
        });
    }
    let [
        Some(issuer),
        Some(client_id),
        Some(client_secret),
        Some(admin_url),
    ] = values
    else {
        unreachable!("none is missing");
    };
    let issuer = absolute_url("WIF_PROCONNECT_URL", &issuer, debug)?;
    let admin_url = absolute_url("WIF_ADMIN_URL", &admin_url, debug)?;
    Ok(Some(ProConnectSettings {
        issuer,
        client_id,
        client_secret: Secret(client_secret),
        admin_url,
        mfa: match var("WIF_PROCONNECT_MFA") {
            Some(value) => parse_bool(("WIF_PROCONNECT_MFA", value))?,
            None => false,
        },
    }))
}

/// An `http(s)://host[:port][/path]` address without query or fragment, returned without its
/// final `/`. Plain HTTP is for this machine or `WIF_DEBUG` only.
fn absolute_url(variable: &'static str, value: &str, debug: bool) -> Result<String, ConfigError> {
    let error = |message: String| ConfigError { variable, message };
    let url = reqwest::Url::parse(value)
        .ok()
        .filter(|url| url.host_str().is_some() && url.query().is_none() && url.fragment().is_none())
        .ok_or_else(|| {
            error(format!(
                "« {value} » n'est pas une adresse complète (exemple : https://wif.exemple.gouv.fr)"
            ))
        })?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if local || debug => {}
        _ => return Err(error(format!("« {value} » doit commencer par https://"))),
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// `WIF_PASSWORD_LOGIN`: `administrators` and `off` need ProConnect, or nobody could sign in.
fn password_login(
    (variable, value): (&'static str, String),
    proconnect: &Option<ProConnectSettings>,
) -> Result<PasswordLogin, ConfigError> {
    let mode = match value.to_ascii_lowercase().as_str() {
        "all" => PasswordLogin::All,
        "administrators" => PasswordLogin::Administrators,
        "off" => PasswordLogin::Off,
        _ => {
            return Err(ConfigError {
                variable,
                message: format!("« {value} » : valeurs possibles all, administrators ou off"),
            });
        }
    };
    if mode != PasswordLogin::All && proconnect.is_none() {
        return Err(ConfigError {
            variable,
            message: format!(
                "« {value} » demande la connexion ProConnect (WIF_PROCONNECT_URL…) : sans elle, les agents ne pourraient plus se connecter"
            ),
        });
    }
    Ok(mode)
}

/// The legal pages' defaults: the ministry that runs Work in France, its data-protection
/// officer's postal address; the host must be set by whoever deploys the service.
const DEFAULT_DPO_CONTACT: &str = "Délégué à la protection des données des ministères sociaux, \
    14 avenue Duquesne, 75350 Paris 07 SP";
const DEFAULT_PUBLISHER: &str = "Ministère du Travail et de l'Emploi, Délégation générale à \
    l'emploi et à la formation professionnelle (DGEFP), 14 avenue Duquesne, 75350 Paris 07 SP";
const DEFAULT_HOSTING: &str =
    "Hébergeur à préciser par l'exploitant du service (variable WIF_HOSTING)";

/// A whole number from `min` to `max` of `unit` (« mois », « jours »).
fn parse_bounded(
    (variable, value): (&'static str, String),
    min: u32,
    max: u32,
    unit: &str,
) -> Result<u32, ConfigError> {
    value
        .parse()
        .ok()
        .filter(|n: &u32| (min..=max).contains(n))
        .ok_or_else(|| ConfigError {
            variable,
            message: format!("« {value} » n'est pas un nombre de {unit} de {min} à {max}"),
        })
}

/// Every variable the program reads, so that a misspelt one can be pointed out.
pub const KNOWN_VARIABLES: &[&str] = &[
    "WIF_DATABASE_URL",
    "WIF_DATABASE_NAME",
    "WIF_DATABASE_USER",
    "WIF_DATABASE_PASSWORD",
    "WIF_DATABASE_HOST",
    "WIF_DATABASE_PORT",
    "WIF_SECRET_KEY",
    "WIF_DEBUG",
    "WIF_MEDIA_ROOT",
    "WIF_BIND",
    "WIF_PUBLIC_BIND",
    "WIF_METRICS_BIND",
    "WIF_TIME_ZONE",
    "WIF_CORS_ORIGINS",
    "WIF_ALLOWED_ORIGINS",
    "WIF_PUBLIC_RATE_LIMIT",
    "WIF_TRUST_PROXY",
    "WIF_TRUSTED_PROXIES",
    "WIF_SYNC_SCHEDULE",
    "WIF_STATS_SCHEDULE",
    "WIF_LOG_FORMAT",
    "WIF_SUPERUSER_PASSWORD",
    "WIF_SMTP_URL",
    "WIF_EMAIL_FROM",
    "WIF_ALERTS_SCHEDULE",
    "WIF_ALERT_CONSTRUCTION_DAYS",
    "WIF_ALERT_INSTRUCTION_DAYS",
    "WIF_REPORTS_SCHEDULE",
    "WIF_REPORTS_RECIPIENTS",
    "WIF_DS_WEBHOOK_SECRETS",
    "WIF_DS_WEBHOOK_DEBOUNCE",
    "WIF_RETENTION_MONTHS",
    "WIF_RETENTION_DELETED_DAYS",
    "WIF_LOG_RETENTION_MONTHS",
    "WIF_PURGE_SCHEDULE",
    "WIF_DPO_CONTACT",
    "WIF_PUBLISHER",
    "WIF_HOSTING",
    "WIF_SHUTDOWN_GRACE",
    "WIF_PROCONNECT_URL",
    "WIF_PROCONNECT_CLIENT_ID",
    "WIF_PROCONNECT_CLIENT_SECRET",
    "WIF_PROCONNECT_MFA",
    "WIF_ADMIN_URL",
    "WIF_PASSWORD_LOGIN",
    "DEMARCHES_SIMPLIFIEES_API_TOKEN",
    "DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT",
    "DEMARCHES_SIMPLIFIEES_API_URL",
    "DEMARCHES_SIMPLIFIEES_API_VERSION",
    "DEMARCHES_SIMPLIFIEES_RATE_LIMIT",
    // The test suite's and the benchmarks' own settings.
    "WIF_TEST_DATABASE_URL",
    "WIF_REQUIRE_BROWSER",
    "WIF_BENCH_DATABASE_URL",
    "WIF_BENCH_DOSSIERS",
    "WIF_BENCH_V1_DOSSIERS",
    "WIF_BENCH_NOW",
    "WIF_BENCH_REUSE",
];

/// The `WIF_…` and `DEMARCHES_SIMPLIFIEES_…` names among `names` that the program does not read:
/// a misspelt variable would otherwise be silently ignored.
pub fn unknown_variables<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut unknown: Vec<&str> = names
        .into_iter()
        .filter(|n| n.starts_with("WIF_") || n.starts_with("DEMARCHES_SIMPLIFIEES_"))
        .filter(|n| !KNOWN_VARIABLES.contains(n))
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    unknown
}

/// Loads `.env` from the working directory, if there is one, into the process environment;
/// variables already set keep their value.
pub fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Err(error) if !error.not_found() => Err(ConfigError {
            variable: ".env",
            message: format!("fichier illisible ({error})"),
        }),
        _ => Ok(()),
    }
}

/// `WIF_DATABASE_URL`, or a `postgres://` URL built from the seed's `WIF_DATABASE_*` variables.
fn database_url(var: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    if let Some(url) = var("WIF_DATABASE_URL") {
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError {
                variable: "WIF_DATABASE_URL",
                message: "l'adresse doit commencer par sqlite:// ou postgres://".into(),
            });
        }
        return Ok(url);
    }
    let Some(name) = var("WIF_DATABASE_NAME") else {
        return Ok(DEFAULT_DATABASE_URL.to_owned());
    };
    let user = var("WIF_DATABASE_USER").map(|u| percent_encode(&u));
    let password = var("WIF_DATABASE_PASSWORD").map(|p| percent_encode(&p));
    let host = var("WIF_DATABASE_HOST").unwrap_or_else(|| "localhost".into());
    let port = var("WIF_DATABASE_PORT").unwrap_or_else(|| "5432".into());
    if port.parse::<u16>().is_err() {
        return Err(ConfigError {
            variable: "WIF_DATABASE_PORT",
            message: format!("« {port} » n'est pas un numéro de port"),
        });
    }
    let credentials = match (user, password) {
        (Some(user), Some(password)) => format!("{user}:{password}@"),
        (Some(user), None) => format!("{user}@"),
        (None, _) => String::new(),
    };
    Ok(format!(
        "postgres://{credentials}{host}:{port}/{}",
        percent_encode(&name)
    ))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A comma-separated list of origins (`https://host[:port]`); `*` is refused: an explicit list
/// is what keeps other sites from reading the answers in a visitor's browser.
fn parse_origins((variable, value): (&'static str, String)) -> Result<Vec<String>, ConfigError> {
    value
        .split(',')
        .map(|o| o.trim().trim_end_matches('/'))
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let valid = reqwest::Url::parse(origin).is_ok_and(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.host_str().is_some()
                    && url.path() == "/"
                    && url.query().is_none()
                    && !origin.ends_with('/')
                    && origin.matches('/').count() == 2
            });
            match valid {
                true => Ok(origin.to_owned()),
                false => Err(ConfigError {
                    variable,
                    message: format!(
                        "« {origin} » n'est pas une origine : donnez la liste des sites autorisés, sans « * » (exemple : https://workinfrance.beta.gouv.fr)"
                    ),
                }),
            }
        })
        .collect()
}

fn trusted_proxies(var: &impl Fn(&str) -> Option<String>) -> Result<TrustedProxies, ConfigError> {
    let mut proxies = TrustedProxies::parse(&var("WIF_TRUSTED_PROXIES").unwrap_or_default())
        .map_err(|message| ConfigError {
            variable: "WIF_TRUSTED_PROXIES",
            message,
        })?;
    let alias = var("WIF_TRUST_PROXY").unwrap_or_else(|| "False".into());
    proxies.any_peer = parse_bool(("WIF_TRUST_PROXY", alias))?;
    Ok(proxies)
}

/// `DEMARCHES_SIMPLIFIEES_API_URL`: an `http(s)://` address, checked now rather than after a
/// sync's retries.
fn ds_api_url((variable, value): (&'static str, String)) -> Result<String, ConfigError> {
    let url = value.trim_end_matches('/');
    match reqwest::Url::parse(url) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() =>
        {
            Ok(url.to_owned())
        }
        _ => Err(ConfigError {
            variable,
            message: format!(
                "« {value} » n'est pas une adresse http:// ou https:// (exemple : {DEFAULT_DS_API_URL})"
            ),
        }),
    }
}

/// `DEMARCHES_SIMPLIFIEES_API_TOKEN`, which goes into a header: no control character, no space
/// inside (a pasted line break, say).
fn ds_token(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<Secret>, ConfigError> {
    let Some(token) = lookup("DEMARCHES_SIMPLIFIEES_API_TOKEN") else {
        return Ok(None);
    };
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    if token.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ConfigError {
            variable: "DEMARCHES_SIMPLIFIEES_API_TOKEN",
            message: "le jeton contient un espace, un retour à la ligne ou un caractère de contrôle : recopiez-le sans eux".into(),
        });
    }
    Ok(Some(Secret(token.to_owned())))
}

fn schedule((variable, value): (&'static str, String)) -> Result<Option<Schedule>, ConfigError> {
    Schedule::parse(&value).map_err(|message| ConfigError { variable, message })
}

fn webhook_secrets(var: &impl Fn(&str) -> Option<String>) -> Result<Vec<Secret>, ConfigError> {
    let Some(list) = var("WIF_DS_WEBHOOK_SECRETS") else {
        return Ok(Vec::new());
    };
    let secrets: Vec<Secret> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Secret(s.to_owned()))
        .collect();
    if secrets.len() > 2
        || secrets
            .iter()
            .any(|s| s.0.len() < 16 || s.0.contains(char::is_whitespace))
    {
        return Err(ConfigError {
            variable: "WIF_DS_WEBHOOK_SECRETS",
            message: "un ou deux secrets (whsec_…) séparés par une virgule, de 16 caractères au moins et sans espace".to_owned(),
        });
    }
    Ok(secrets)
}

/// `5s`, `500ms`, `2m`, or a number of seconds.
fn parse_duration(
    (variable, value): (&'static str, String),
) -> Result<std::time::Duration, ConfigError> {
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => value.split_at(at),
        None => (value.as_str(), "s"),
    };
    let millis = match unit.trim() {
        "ms" => Some(1),
        "s" => Some(1000),
        "m" | "min" => Some(60_000),
        _ => None,
    };
    match (number.parse::<u64>(), millis) {
        (Ok(n), Some(millis)) if n * millis <= 3_600_000 => {
            Ok(std::time::Duration::from_millis(n * millis))
        }
        _ => Err(ConfigError {
            variable,
            message: format!(
                "« {value} » n'est pas une durée (exemples : 5s, 500ms, 1m ; une heure au plus)"
            ),
        }),
    }
}

fn parse_days((variable, value): (&'static str, String)) -> Result<u32, ConfigError> {
    value
        .parse()
        .ok()
        .filter(|&n: &u32| n <= 3650)
        .ok_or_else(|| ConfigError {
            variable,
            message: format!("« {value} » n'est pas un nombre de jours (entier de 0 à 3650)"),
        })
}

/// A comma-separated list of e-mail addresses.
fn parse_addresses((variable, value): (&'static str, String)) -> Result<Vec<String>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|address| match address.parse::<lettre::Address>() {
            Ok(_) => Ok(address.to_owned()),
            Err(_) => Err(ConfigError {
                variable,
                message: format!(
                    "« {address} » n'est pas une adresse e-mail (liste séparée par des virgules, par exemple pilotage@dreets.gouv.fr, ud75@dreets.gouv.fr)"
                ),
            }),
        })
        .collect()
}

/// The sender used by `console` when `WIF_EMAIL_FROM` is unset: e-mails only go to the log.
const CONSOLE_FROM: &str = "Work in France <ne-pas-repondre@localhost>";

fn email_settings(var: &impl Fn(&str) -> Option<String>) -> Result<EmailSettings, ConfigError> {
    let from = var("WIF_EMAIL_FROM");
    let smtp = match var("WIF_SMTP_URL") {
        None => SmtpSetting::Off,
        Some(console) if console.eq_ignore_ascii_case("console") => SmtpSetting::Console,
        Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
            if from.is_none() {
                return Err(ConfigError {
                    variable: "WIF_EMAIL_FROM",
                    message: "l'adresse d'expédition est obligatoire avec WIF_SMTP_URL (exemple : Work in France <ne-pas-repondre@exemple.gouv.fr>)".to_owned(),
                });
            }
            SmtpSetting::Url(Secret(url))
        }
        Some(_) => {
            return Err(ConfigError {
                variable: "WIF_SMTP_URL",
                message: "adresse inconnue : smtp://hote:587, smtps://hote:465, smtp://hote:25?tls=none ou console".to_owned(),
            });
        }
    };
    Ok(EmailSettings {
        smtp,
        from: from.unwrap_or_else(|| CONSOLE_FROM.to_owned()),
    })
}

fn parse_bool((variable, value): (&'static str, String)) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "oui" | "on" => Ok(true),
        "false" | "0" | "no" | "non" | "off" => Ok(false),
        _ => Err(ConfigError {
            variable,
            message: format!("« {value} » n'est pas un booléen (True ou False)"),
        }),
    }
}

fn parse_addr((variable, value): (&'static str, String)) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| ConfigError {
        variable,
        message: format!("« {value} » n'est pas une adresse d'écoute (exemple : 127.0.0.1:8000)"),
    })
}

fn parse_rate((variable, value): (&'static str, String)) -> Result<u32, ConfigError> {
    value
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| ConfigError {
            variable,
            message: format!(
                "« {value} » n'est pas un nombre de requêtes par minute (entier positif)"
            ),
        })
}

fn parse_procedure_ids(var: &impl Fn(&str) -> Option<String>) -> Result<Vec<i64>, ConfigError> {
    let Some(list) = var("DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT") else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            id.parse::<i64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| ConfigError {
                    variable: "DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT",
                    message: format!("« {id} » n'est pas un numéro de démarche"),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url.expose(), "sqlite://wif.sqlite3");
        assert!(!s.debug);
        assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(s.public_bind.to_string(), "127.0.0.1:1337");
        assert_eq!(s.time_zone, chrono_tz::Europe::Paris);
        assert_eq!(s.media_root, PathBuf::from("./media"));
        assert_eq!(s.ds.api_url, "https://demarche.numerique.gouv.fr");
        assert_eq!(s.ds.api_version, ApiVersion::V2);
        assert_eq!(s.ds.rate_limit_per_minute, 300);
        assert_eq!(s.public_rate_limit_per_minute, 60);
        assert_eq!(
            s.cors_origins,
            ["https://workinfrance.beta.gouv.fr", "http://localhost:8080"]
        );
        assert_eq!(s.sync_schedule.unwrap().as_str(), "0 9-19 * * 1-5");
        assert_eq!(s.stats_schedule.unwrap().as_str(), "0 9 * * *");
        assert!(s.ds.token.is_none());
        assert!(s.ds.procedure_ids.is_empty());
    }

    const PROCONNECT: [(&str, &str); 4] = [
        (
            "WIF_PROCONNECT_URL",
            "https://fca.integ01.dev-agentconnect.fr/api/v2/",
        ),
        ("WIF_PROCONNECT_CLIENT_ID", "wif-client"),
        ("WIF_PROCONNECT_CLIENT_SECRET", "un-secret"),
        ("WIF_ADMIN_URL", "https://wif.exemple.gouv.fr/"),
    ];

    #[test]
    fn proconnect_needs_its_four_variables_or_none() {
        let s = settings(&[]).unwrap();
        assert!(s.proconnect.is_none());
        assert_eq!(s.password_login, PasswordLogin::All);

        let s = settings(&PROCONNECT).unwrap();
        let proconnect = s.proconnect.unwrap();
        assert_eq!(
            proconnect.issuer,
            "https://fca.integ01.dev-agentconnect.fr/api/v2"
        );
        assert_eq!(proconnect.admin_url, "https://wif.exemple.gouv.fr");
        assert_eq!(proconnect.client_id, "wif-client");
        assert_eq!(proconnect.client_secret.expose(), "un-secret");
        assert!(!proconnect.mfa);

        for left_out in 0..PROCONNECT.len() {
            let mut vars = PROCONNECT.to_vec();
            let (missing, _) = vars.remove(left_out);
            let error = settings(&vars).unwrap_err();
            assert_eq!(error.variable, missing);
            assert!(
                error.message.ends_with(&format!("il manque {missing}")),
                "{error}"
            );
        }
        let error = settings(&PROCONNECT[3..]).unwrap_err();
        assert_eq!(error.variable, "WIF_PROCONNECT_URL");
        assert!(
            error.message.ends_with(
                "il manque WIF_PROCONNECT_URL, WIF_PROCONNECT_CLIENT_ID, WIF_PROCONNECT_CLIENT_SECRET"
            ),
            "{error}"
        );
    }

    #[test]
    fn proconnect_addresses_must_be_complete_and_https_off_this_machine() {
        let with = |name: &'static str, value: &'static str| {
            let mut vars = PROCONNECT.to_vec();
            vars.retain(|(n, _)| *n != name);
            vars.push((name, value));
            settings(&vars)
        };
        let error = with("WIF_PROCONNECT_URL", "http://proconnect.example.fr").unwrap_err();
        assert_eq!(error.variable, "WIF_PROCONNECT_URL");
        assert!(
            error.message.contains("doit commencer par https://"),
            "{error}"
        );
        let error = with("WIF_ADMIN_URL", "wif.exemple.gouv.fr").unwrap_err();
        assert_eq!(error.variable, "WIF_ADMIN_URL");
        assert!(
            error.message.contains("n'est pas une adresse complète"),
            "{error}"
        );
        let error = with("WIF_ADMIN_URL", "https://wif.exemple.gouv.fr/?a=b").unwrap_err();
        assert_eq!(error.variable, "WIF_ADMIN_URL");
        // A provider on this machine (a test one) may speak plain HTTP.
        let local = with("WIF_PROCONNECT_URL", "http://127.0.0.1:4000/api/v2").unwrap();
        assert_eq!(
            local.proconnect.unwrap().issuer,
            "http://127.0.0.1:4000/api/v2"
        );

        let mfa = with("WIF_PROCONNECT_MFA", "True").unwrap();
        assert!(mfa.proconnect.unwrap().mfa);
        let error = with("WIF_PROCONNECT_MFA", "peut-être").unwrap_err();
        assert_eq!(error.variable, "WIF_PROCONNECT_MFA");
    }

    #[test]
    fn password_login_off_or_for_administrators_needs_proconnect() {
        for (value, mode) in [
            ("all", PasswordLogin::All),
            ("administrators", PasswordLogin::Administrators),
            ("OFF", PasswordLogin::Off),
        ] {
            let mut vars = PROCONNECT.to_vec();
            vars.push(("WIF_PASSWORD_LOGIN", value));
            assert_eq!(settings(&vars).unwrap().password_login, mode);
        }
        for value in ["administrators", "off"] {
            let error = settings(&[("WIF_PASSWORD_LOGIN", value)]).unwrap_err();
            assert_eq!(error.variable, "WIF_PASSWORD_LOGIN");
            assert!(
                error.message.contains("demande la connexion ProConnect"),
                "{error}"
            );
        }
        let error = settings(&[("WIF_PASSWORD_LOGIN", "agents")]).unwrap_err();
        assert!(
            error
                .message
                .contains("valeurs possibles all, administrators ou off"),
            "{error}"
        );
    }

    #[test]
    fn the_seeds_database_variables_build_a_postgres_url() {
        let s = settings(&[
            ("WIF_DATABASE_NAME", "work_in_france_bo"),
            ("WIF_DATABASE_USER", "work_in_france"),
            ("WIF_DATABASE_PASSWORD", "p@ss:w/rd"),
            ("WIF_DATABASE_HOST", "db"),
            ("WIF_DATABASE_PORT", "5433"),
        ])
        .unwrap();
        assert_eq!(
            s.database_url.expose(),
            "postgres://work_in_france:p%40ss%3Aw%2Frd@db:5433/work_in_france_bo"
        );
        let explicit = settings(&[
            ("WIF_DATABASE_URL", "sqlite://autre.sqlite3"),
            ("WIF_DATABASE_NAME", "ignored"),
        ])
        .unwrap();
        assert_eq!(explicit.database_url.expose(), "sqlite://autre.sqlite3");
    }

    #[test]
    fn seed_style_booleans_and_lists_are_read() {
        let s = settings(&[
            ("WIF_DEBUG", "True"),
            ("WIF_TRUST_PROXY", "false"),
            ("DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT", "1234, 5678"),
            ("DEMARCHES_SIMPLIFIEES_API_VERSION", "V1"),
        ])
        .unwrap();
        assert!(s.debug);
        assert_eq!(s.trusted_proxies, TrustedProxies::default());
        assert_eq!(s.ds.procedure_ids, [1234, 5678]);
        assert_eq!(s.ds.api_version, ApiVersion::V1);
    }

    #[test]
    fn e_mail_is_off_by_default_and_a_server_needs_a_sender() {
        let off = settings(&[]).unwrap();
        assert_eq!(off.email.smtp, SmtpSetting::Off);
        assert_eq!(off.alerts_schedule.unwrap().as_str(), "0 8 * * 1-5");
        assert_eq!(
            (
                off.alert_rules.construction_days,
                off.alert_rules.instruction_days
            ),
            (7, 7)
        );
        let console = settings(&[("WIF_SMTP_URL", "console")]).unwrap();
        assert_eq!(console.email.smtp, SmtpSetting::Console);
        let error = settings(&[("WIF_SMTP_URL", "smtp://relais:25?tls=none")]).unwrap_err();
        assert_eq!(error.variable, "WIF_EMAIL_FROM");
        let server = settings(&[
            ("WIF_SMTP_URL", "smtps://u:motdepasse@mail:465"),
            ("WIF_EMAIL_FROM", "wif@exemple.gouv.fr"),
            ("WIF_ALERT_INSTRUCTION_DAYS", "21"),
        ])
        .unwrap();
        assert!(matches!(server.email.smtp, SmtpSetting::Url(_)));
        assert!(!format!("{server:?}").contains("motdepasse"));
        assert_eq!(server.alert_rules.instruction_days, 21);
    }

    #[test]
    fn reports_go_out_on_the_first_of_the_month_to_the_listed_addresses() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.reports_schedule.unwrap().as_str(), "0 7 1 * *");
        assert!(defaults.reports_recipients.is_empty());
        let set = settings(&[
            ("WIF_REPORTS_SCHEDULE", "off"),
            (
                "WIF_REPORTS_RECIPIENTS",
                " pilotage@dreets.gouv.fr, ud75@dreets.gouv.fr ,",
            ),
        ])
        .unwrap();
        assert_eq!(set.reports_schedule, None);
        assert_eq!(
            set.reports_recipients,
            ["pilotage@dreets.gouv.fr", "ud75@dreets.gouv.fr"]
        );
    }

    #[test]
    fn webhooks_are_off_by_default_and_take_two_secrets() {
        let off = settings(&[]).unwrap();
        assert!(off.webhook_secrets.is_empty());
        assert_eq!(off.webhook_debounce, std::time::Duration::from_secs(5));
        let on = settings(&[
            (
                "WIF_DS_WEBHOOK_SECRETS",
                "whsec_nouveau0123456789, whsec_ancien0123456789",
            ),
            ("WIF_DS_WEBHOOK_DEBOUNCE", "500ms"),
        ])
        .unwrap();
        assert_eq!(on.webhook_secrets.len(), 2);
        assert_eq!(on.webhook_secrets[1].expose(), "whsec_ancien0123456789");
        assert_eq!(on.webhook_debounce, std::time::Duration::from_millis(500));
        assert!(!format!("{on:?}").contains("whsec_"));
        let minutes = settings(&[("WIF_DS_WEBHOOK_DEBOUNCE", "2m")]).unwrap();
        assert_eq!(
            minutes.webhook_debounce,
            std::time::Duration::from_secs(120)
        );
        let seconds = settings(&[("WIF_DS_WEBHOOK_DEBOUNCE", "0")]).unwrap();
        assert_eq!(seconds.webhook_debounce, std::time::Duration::ZERO);
    }

    #[test]
    fn an_invalid_setting_names_its_variable() {
        let cases = [
            ("WIF_BIND", "localhost"),
            ("WIF_PUBLIC_BIND", "1337"),
            ("WIF_DEBUG", "peut-être"),
            ("WIF_TIME_ZONE", "Europe/Lutece"),
            ("DEMARCHES_SIMPLIFIEES_API_VERSION", "v3"),
            ("DEMARCHES_SIMPLIFIEES_RATE_LIMIT", "0"),
            ("WIF_PUBLIC_RATE_LIMIT", "beaucoup"),
            ("DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT", "12,abc"),
            ("WIF_DATABASE_URL", "mysql://localhost/wif"),
            ("WIF_LOG_FORMAT", "xml"),
            ("WIF_CORS_ORIGINS", "*"),
            ("WIF_CORS_ORIGINS", "https://a.gouv.fr, workinfrance"),
            ("WIF_ALLOWED_ORIGINS", "https://wif.gouv.fr/admin/"),
            ("WIF_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("WIF_METRICS_BIND", "9100"),
            (
                "DEMARCHES_SIMPLIFIEES_API_URL",
                "demarche.numerique.gouv.fr",
            ),
            ("DEMARCHES_SIMPLIFIEES_API_URL", "not a url"),
            (
                "DEMARCHES_SIMPLIFIEES_API_URL",
                "ftp://demarche.numerique.gouv.fr",
            ),
            ("DEMARCHES_SIMPLIFIEES_API_TOKEN", "abc\ndef"),
            ("WIF_SMTP_URL", "mail.exemple.gouv.fr:587"),
            ("WIF_ALERTS_SCHEDULE", "tous les matins"),
            ("WIF_ALERT_CONSTRUCTION_DAYS", "-1"),
            ("WIF_ALERT_INSTRUCTION_DAYS", "sept"),
            ("WIF_REPORTS_SCHEDULE", "le premier du mois"),
            (
                "WIF_REPORTS_RECIPIENTS",
                "pilotage@dreets.gouv.fr, pilotage",
            ),
            ("WIF_DS_WEBHOOK_SECRETS", "court"),
            (
                "WIF_DS_WEBHOOK_SECRETS",
                "whsec_aaaaaaaaaaaaaaaa,whsec_bbbbbbbbbbbbbbbb,whsec_cccccccccccccccc",
            ),
            ("WIF_DS_WEBHOOK_DEBOUNCE", "bientôt"),
            ("WIF_DS_WEBHOOK_DEBOUNCE", "5h"),
        ];
        for (variable, value) in cases {
            let error = settings(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable);
            assert!(error.to_string().starts_with(variable), "{error}");
        }
    }

    #[test]
    fn proxies_origins_and_the_metrics_listener_are_read() {
        let s = settings(&[
            ("WIF_TRUSTED_PROXIES", "172.16.0.0/12, 10.0.0.1"),
            (
                "WIF_ALLOWED_ORIGINS",
                "https://wif.dreets.gouv.fr/, http://localhost:8000",
            ),
            ("WIF_METRICS_BIND", "0.0.0.0:9200"),
            ("DEMARCHES_SIMPLIFIEES_API_URL", "http://127.0.0.1:8089/"),
        ])
        .unwrap();
        assert_eq!(s.trusted_proxies.networks.len(), 2);
        assert!(!s.trusted_proxies.any_peer);
        assert_eq!(
            s.allowed_origins,
            ["https://wif.dreets.gouv.fr", "http://localhost:8000"]
        );
        assert_eq!(s.metrics_bind.unwrap().to_string(), "0.0.0.0:9200");
        assert_eq!(s.ds.api_url, "http://127.0.0.1:8089");
        let defaults = settings(&[("WIF_TRUST_PROXY", "True")]).unwrap();
        assert!(
            defaults.trusted_proxies.any_peer,
            "the old boolean is an alias"
        );
        assert_eq!(defaults.metrics_bind.unwrap().to_string(), "127.0.0.1:9100");
        assert!(defaults.allowed_origins.is_empty());
        assert_eq!(
            settings(&[("WIF_METRICS_BIND", "off")])
                .unwrap()
                .metrics_bind,
            None
        );
    }

    #[test]
    fn misspelt_variables_are_found() {
        let names = [
            "WIF_DEBUG",
            "WIF_SECERT_KEY",
            "DEMARCHES_SIMPLIFIEES_TOKEN",
            "PATH",
            "WIF_TRUSTED_PROXIES",
        ];
        assert_eq!(
            unknown_variables(names),
            ["DEMARCHES_SIMPLIFIEES_TOKEN", "WIF_SECERT_KEY"]
        );
    }

    #[test]
    fn schedules_can_be_turned_off_and_a_wrong_one_is_named() {
        let off = settings(&[("WIF_STATS_SCHEDULE", "off")]).unwrap();
        assert_eq!(off.stats_schedule, None);
        assert!(off.sync_schedule.is_some());
        let error = settings(&[("WIF_SYNC_SCHEDULE", "tous les jours")]).unwrap_err();
        assert_eq!(error.variable, "WIF_SYNC_SCHEDULE");
        assert!(error.message.contains("5 champs"), "{}", error.message);
    }

    #[test]
    fn secrets_are_not_shown_by_debug() {
        let s = settings(&[
            ("DEMARCHES_SIMPLIFIEES_API_TOKEN", "tok-123-secret"),
            ("WIF_SECRET_KEY", "key-456-secret"),
            ("WIF_DATABASE_URL", "postgres://u:pw-789-secret@h/db"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["tok-123-secret", "key-456-secret", "pw-789-secret"] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
        assert_eq!(s.ds.token.unwrap().expose(), "tok-123-secret");
    }
}
