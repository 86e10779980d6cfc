//! The `wif` command line: its subcommands and how each is dispatched (SPEC section 2).

use clap::{Args, Parser, Subcommand};

use crate::commands;

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
    /// Copie les dossiers de démarches-simplifiées dans la base (pas encore disponible)
    #[command(visible_alias = "sync_dossiers")]
    SyncDossiers,
    /// Exporte validity_check.json, les APT acceptées anonymisées (pas encore disponible)
    #[command(visible_alias = "export_validity_check_data")]
    ExportValidityCheckData,
    /// Exporte stats.json, les statistiques publiques (pas encore disponible)
    #[command(visible_alias = "export_stats_data")]
    ExportStatsData,
    /// Lance l'administration web et les tâches planifiées (pas encore disponible)
    Serve,
    /// Lance le service public de vérification des APT (pas encore disponible)
    #[command(visible_alias = "serve_public")]
    ServePublic,
    /// Démonstration sans configuration : base embarquée, DS simulé, admin et service public (pas encore disponible)
    Demo,
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

/// Runs the command; the error is the one sentence shown to the user.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Migrate => commands::migrate::run().await,
        Command::Createsuperuser(args) => commands::createsuperuser::run(args).await,
        Command::SyncDossiers => not_yet("sync-dossiers"),
        Command::ExportValidityCheckData => not_yet("export-validity-check-data"),
        Command::ExportStatsData => not_yet("export-stats-data"),
        Command::Serve => not_yet("serve"),
        Command::ServePublic => not_yet("serve-public"),
        Command::Demo => not_yet("demo"),
    }
}

fn not_yet(command: &str) -> anyhow::Result<()> {
    anyhow::bail!("la commande « {command} » n'est pas encore disponible dans cette version de wif")
}
