//! Settings from the environment and `.env` (SPEC section 3).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;

use crate::domain::ApiVersion;
use crate::domain::cron::Schedule;

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
    pub trust_proxy: bool,
    /// `None` when `off`.
    pub sync_schedule: Option<Schedule>,
    pub stats_schedule: Option<Schedule>,
    pub log_format: LogFormat,
}

/// A setting that cannot be used, named so that the operator knows what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} : {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl Settings {
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

        Ok(Settings {
            database_url: Secret(database_url(&var)?),
            secret_key: var("WIF_SECRET_KEY").map(Secret),
            debug,
            media_root: PathBuf::from(parsed("WIF_MEDIA_ROOT", "./media").1),
            bind: parse_addr(parsed("WIF_BIND", "127.0.0.1:8000"))?,
            public_bind: parse_addr(parsed("WIF_PUBLIC_BIND", "127.0.0.1:1337"))?,
            time_zone,
            cors_origins: parsed(
                "WIF_CORS_ORIGINS",
                "https://workinfrance.beta.gouv.fr,http://localhost:8080",
            )
            .1
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect(),
            ds: DsSettings {
                token: var("DEMARCHES_SIMPLIFIEES_API_TOKEN").map(Secret),
                procedure_ids: parse_procedure_ids(&var)?,
                api_url: parsed("DEMARCHES_SIMPLIFIEES_API_URL", DEFAULT_DS_API_URL)
                    .1
                    .trim_end_matches('/')
                    .to_owned(),
                api_version,
                rate_limit_per_minute: parse_rate(parsed(
                    "DEMARCHES_SIMPLIFIEES_RATE_LIMIT",
                    "300",
                ))?,
            },
            public_rate_limit_per_minute: parse_rate(parsed("WIF_PUBLIC_RATE_LIMIT", "60"))?,
            trust_proxy: parse_bool(parsed("WIF_TRUST_PROXY", "False"))?,
            sync_schedule: schedule(parsed("WIF_SYNC_SCHEDULE", "0 9-19 * * 1-5"))?,
            stats_schedule: schedule(parsed("WIF_STATS_SCHEDULE", "0 9 * * *"))?,
            log_format,
        })
    }
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

fn schedule((variable, value): (&'static str, String)) -> Result<Option<Schedule>, ConfigError> {
    Schedule::parse(&value).map_err(|message| ConfigError { variable, message })
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
        assert!(!s.trust_proxy);
        assert_eq!(s.ds.procedure_ids, [1234, 5678]);
        assert_eq!(s.ds.api_version, ApiVersion::V1);
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
        ];
        for (variable, value) in cases {
            let error = settings(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable);
            assert!(error.to_string().starts_with(variable), "{error}");
        }
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
