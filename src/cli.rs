//! The `wif` command line: its subcommands and how each is dispatched (SPEC section 2).

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use std::path::PathBuf;

use crate::commands;
use crate::domain::report::{Month, MonthError};

#[derive(Debug, Parser)]
#[command(
    name = "wif",
    version,
    about = "Back office de Work in France : copie des dossiers APT depuis démarches-simplifiées, administration, exports anonymisés",
    long_about = None,
    after_help = "La configuration se lit dans l'environnement et dans le fichier .env du répertoire courant (voir README.md)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crée ou met à jour le schéma de la base de données (sans effet s'il est à jour)
    Migrate,
    /// Crée un compte superutilisateur (interactif, ou --no-input avec WIF_SUPERUSER_PASSWORD)
    Createsuperuser(CreateSuperuserArgs),
    /// Crée un compte d'agent en lecture seule, limité à des départements avec --departement
    Createuser(CreateUserArgs),
    /// Copie les dossiers de démarches-simplifiées dans la base (seuls les changements, sauf --full)
    #[command(visible_alias = "sync_dossiers")]
    SyncDossiers(SyncArgs),
    /// Exporte validity_check.json, les APT acceptées anonymisées, dans WIF_MEDIA_ROOT
    #[command(visible_alias = "export_validity_check_data")]
    ExportValidityCheckData(ExportArgs),
    /// Exporte stats.json, les statistiques publiques, dans WIF_MEDIA_ROOT
    #[command(visible_alias = "export_stats_data")]
    ExportStatsData(ExportArgs),
    /// Importe la base du back office Python (Django) : dossiers, et comptes avec leurs mots de passe
    #[command(visible_alias = "import_django")]
    ImportDjango(ImportDjangoArgs),
    /// Alertes sur les dossiers : évaluation des règles, liste, envoi des e-mails aux instructeurs
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Rapport mensuel par département : classeur XLSX, tableau CSV, ou envoi par e-mail
    Report(ReportArgs),
    /// Efface les données personnelles dont la durée de conservation est passée (WIF_RETENTION_MONTHS…)
    Purge(PurgeArgs),
    /// Outils de développement (données synthétiques pour les mesures de performance)
    #[command(subcommand)]
    Dev(DevCommand),
    /// Lance un démarches-simplifiées simulé (données synthétiques), pour les essais et les tests
    FakeDs(FakeDsArgs),
    /// Liste les démarches connues ou change leur type (autorisation ou introduction)
    #[command(subcommand)]
    Procedures(ProceduresCommand),
    /// Lance l'administration web (WIF_BIND, 127.0.0.1:8000 par défaut) et les tâches planifiées
    Serve(ServeArgs),
    /// Lance le service public : vérification des APT et statistiques, depuis les fichiers exportés
    #[command(visible_alias = "serve_public")]
    ServePublic,
    /// Démonstration sans configuration : base embarquée, DS simulé, synchronisation, exports, admin et service public
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct CreateSuperuserArgs {
    /// Nom d'utilisateur (demandé s'il manque)
    #[arg(long)]
    pub username: Option<String>,
    /// Adresse e-mail (demandée si elle manque)
    #[arg(long)]
    pub email: Option<String>,
    /// Ne rien demander : le mot de passe est lu dans WIF_SUPERUSER_PASSWORD
    #[arg(long)]
    pub no_input: bool,
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    #[command(flatten)]
    pub account: CreateSuperuserArgs,
    /// Département auquel l'agent est limité, tel qu'écrit sur DS (« 75 - Paris ») ; à répéter
    /// pour plusieurs ; sans lui, l'agent voit toute la France
    #[arg(long = "departement", value_name = "DEPARTEMENT")]
    pub departments: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Relit tous les dossiers au lieu des seuls dossiers modifiés
    #[arg(long)]
    pub full: bool,
    /// Ne synchronise que cette démarche
    #[arg(long, value_name = "NUMERO")]
    pub procedure: Option<i64>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "La base source est lue dans une seule transaction en lecture seule, jamais modifiée. Relancer la commande ne change rien de plus. Le mot de passe peut venir de PGPASSWORD plutôt que de l'adresse."
)]
pub struct ImportDjangoArgs {
    /// Adresse de la base PostgreSQL du back office Python (postgres://utilisateur:mot-de-passe@hote:5432/base)
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// Démarche DS des dossiers importés ; par défaut celle de DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT
    #[arg(long, value_name = "NUMERO")]
    pub procedure: Option<i64>,
    /// Affiche ce que l'import ferait, sans rien écrire
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Ne lance aucune tâche planifiée (synchronisation, exports) : l'administration seule
    #[arg(long)]
    pub no_scheduler: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Nombre de dossiers synthétiques du DS simulé
    #[arg(long, default_value_t = 3000)]
    pub dossiers: u64,
    /// Graine des données synthétiques (la même graine donne les mêmes dossiers)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Répertoire à garder (base et exports) ; par défaut un répertoire temporaire, effacé à l'arrêt
    #[arg(long)]
    pub data: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct FakeDsArgs {
    /// Nombre de dossiers synthétiques
    #[arg(long, default_value_t = 2000)]
    pub dossiers: u64,
    /// Graine du jeu de données
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Numéro de la démarche simulée
    #[arg(long, default_value_t = 1)]
    pub procedure: i64,
    /// Port d'écoute sur 127.0.0.1
    #[arg(long, default_value_t = 8089)]
    pub port: u16,
    /// Jeton attendu
    #[arg(long, default_value = "jeton-de-demonstration")]
    pub token: String,
    /// Adresse où envoyer les webhooks de DS à chaque changement (par exemple http://127.0.0.1:8000/webhooks/ds)
    #[arg(long, value_name = "URL", requires = "webhook_secret")]
    pub webhook_url: Option<String>,
    /// Secret qui signe les webhooks (le même dans WIF_DS_WEBHOOK_SECRETS)
    #[arg(long, value_name = "SECRET", requires = "webhook_url")]
    pub webhook_secret: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Fichier à écrire au lieu de WIF_MEDIA_ROOT/<nom> ; « - » pour la sortie standard
    #[arg(long, value_name = "CHEMIN")]
    pub output: Option<String>,
    /// Date et heure de référence (RFC 3339, par exemple 2024-05-01T09:00:00+02:00), pour un résultat reproductible
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Durées : WIF_RETENTION_MONTHS (dossiers décidés), WIF_RETENTION_DELETED_DAYS (dossiers supprimés sur DS), WIF_LOG_RETENTION_MONTHS (journaux). Voir la page « Conservation des données »."
)]
pub struct PurgeArgs {
    /// Compte ce qui serait effacé, sans rien effacer
    #[arg(long)]
    pub dry_run: bool,
    /// Date et heure de référence (RFC 3339), au lieu de maintenant
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
}

fn parse_now(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            "date et heure RFC 3339 attendues, par exemple 2024-05-01T09:00:00+02:00".to_owned()
        })
}

#[derive(Debug, Args)]
#[command(
    after_help = "Le rapport compte les dossiers acceptés, refusés ou classés sans suite dans le mois (heure de WIF_TIME_ZONE), par département."
)]
pub struct ReportArgs {
    /// Mois du rapport ; par défaut le mois précédent
    #[arg(long, value_name = "AAAA-MM", value_parser = parse_month)]
    pub month: Option<Month>,
    /// Un seul département, écrit comme sur DS (par exemple « 75 - Paris »)
    #[arg(long, value_name = "DEPARTEMENT", conflicts_with = "send")]
    pub departement: Option<String>,
    /// Fichier à écrire : .xlsx pour le classeur, .csv pour le tableau national
    #[arg(long, value_name = "CHEMIN", value_parser = parse_report_output, required_unless_present = "send", conflicts_with = "send")]
    pub output: Option<(PathBuf, ReportFormat)>,
    /// Envoie maintenant les rapports par e-mail, comme WIF_REPORTS_SCHEDULE
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Xlsx,
    Csv,
}

fn parse_month(value: &str) -> Result<Month, String> {
    value.parse().map_err(|e: MonthError| e.to_string())
}

fn parse_report_output(value: &str) -> Result<(PathBuf, ReportFormat), String> {
    let path = PathBuf::from(value);
    let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    match extension.as_deref() {
        Some("xlsx") => Ok((path, ReportFormat::Xlsx)),
        Some("csv") => Ok((path, ReportFormat::Csv)),
        _ => {
            Err("le fichier doit finir par .xlsx (classeur) ou .csv (tableau national)".to_owned())
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Ajoute des dossiers synthétiques déterministes à la base (jamais en production)
    Generate {
        /// Nombre de dossiers
        #[arg(long, default_value_t = 10_000)]
        dossiers: u64,
        /// Graine du jeu de données : la même graine donne les mêmes dossiers
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Numéro de la démarche des dossiers
        #[arg(long, default_value_t = 1)]
        procedure: i64,
        /// Date et heure où finit l'historique des dossiers (RFC 3339), au lieu de maintenant : la même date donne les mêmes dossiers
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Évalue maintenant toutes les règles : ouvre et résout les alertes
    Evaluate {
        /// Date et heure de référence (RFC 3339), au lieu de maintenant
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
    },
    /// Affiche les alertes ouvertes (ds_id, code, ouverte le, résolue le)
    List {
        /// Toutes les alertes, résolues comprises
        #[arg(long)]
        all: bool,
        /// Une ligne JSON par alerte, pour les scripts
        #[arg(long)]
        json: bool,
    },
    /// Envoie maintenant les e-mails d'alertes dus (ce que lance WIF_ALERTS_SCHEDULE)
    Notify,
}

#[derive(Debug, Subcommand)]
pub enum ProceduresCommand {
    /// Affiche les démarches connues, leur type et leur nombre de dossiers
    List,
    /// Fixe le type d'une démarche : « authorization » (APT) ou « introduction »
    SetKind {
        /// Numéro de la démarche sur DS
        procedure: i64,
        /// authorization ou introduction
        kind: String,
    },
}

/// Runs the command; the error is the one sentence shown to the user.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Migrate => commands::migrate::run().await,
        Command::Createsuperuser(args) => commands::createuser::superuser(args).await,
        Command::Createuser(args) => commands::createuser::agent(args).await,
        Command::SyncDossiers(args) => commands::sync::run(args).await,
        Command::FakeDs(args) => commands::fake_ds::run(args).await,
        Command::ExportValidityCheckData(args) => commands::export::validity_check(args).await,
        Command::ExportStatsData(args) => commands::export::stats(args).await,
        Command::ImportDjango(args) => commands::import_django::run(args).await,
        Command::Alerts(command) => commands::alerts::run(command).await,
        Command::Report(args) => commands::report::run(args).await,
        Command::Purge(args) => commands::purge::run(args).await,
        Command::Dev(command) => commands::dev::run(command).await,
        Command::Procedures(command) => commands::procedures::run(command).await,
        Command::Serve(args) => commands::serve::run(args).await,
        Command::ServePublic => commands::serve_public::run().await,
        Command::Demo(args) => commands::demo::run(args).await,
    }
}
