//! `wif import-django`: the Python back office's accounts and dossiers, with a progress bar and
//! a summary of what became of them.

use anyhow::bail;

use super::open_database;
use super::sync::progress_bar;
use crate::cli::ImportDjangoArgs;
use crate::import_django::{self, AccountOutcome, ImportOptions, Report, Role};
use crate::telemetry::escape_controls;

/// Unreadable dossiers listed in the summary; the log has every one.
const SKIPPED_SHOWN: usize = 20;

pub async fn run(args: ImportDjangoArgs) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let options = ImportOptions {
        procedure: procedure(args.procedure, &settings.ds.procedure_ids)?,
        dry_run: args.dry_run,
    };
    let progress = progress_bar();
    let target = settings.database_url.expose();
    let result = tokio::select! {
        result = import_django::run(&db, &args.from, target, &options, &progress) => result,
        () = crate::shutdown_signal() => {
            progress.finish_and_clear();
            bail!("import interrompu : ce qui est enregistré le reste, relancez la commande pour terminer");
        }
    };
    progress.finish_and_clear();
    db.close().await;
    print_summary(&result?);
    Ok(())
}

/// The démarche of the imported dossiers: `--procedure`, or the one configured.
fn procedure(flag: Option<i64>, configured: &[i64]) -> anyhow::Result<i64> {
    match (flag, configured) {
        (Some(id), _) => Ok(id),
        (None, [id]) => Ok(*id),
        (None, []) => bail!(
            "indiquez la démarche DS des dossiers du back office Python : --procedure NUMERO, ou DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT"
        ),
        (None, several) => bail!(
            "plusieurs démarches configurées ({}) : indiquez celle des dossiers du back office Python avec --procedure NUMERO",
            several
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn print_summary(report: &Report) {
    let dry = report.dry_run;
    let verb = |done: &'static str, to_do: &'static str| if dry { to_do } else { done };
    println!("Source : {}", report.source);
    if dry {
        println!("Simulation (--dry-run) : rien n'a été écrit ; voici ce que l'import ferait.");
    }

    println!("Comptes ({} lus)", report.accounts.len());
    for (role, label) in [
        (Role::Administrator, "comme administrateurs"),
        (Role::Agent, "comme agents"),
        (Role::Inactive, "désactivés (ni staff ni superutilisateur)"),
    ] {
        let count = report.count(AccountOutcome::Imported(role));
        println!("  {} {label} : {count}", verb("importés", "à importer"));
    }
    println!(
        "  déjà importés : {}",
        report.count(AccountOutcome::AlreadyImported)
    );
    let names = |keep: &dyn Fn(&import_django::AccountReport) -> bool| {
        let names: Vec<&str> = report
            .accounts
            .iter()
            .filter(|a| keep(a))
            .map(|a| a.username.as_str())
            .collect();
        match names.is_empty() {
            true => "0".to_owned(),
            false => format!("{} ({})", names.len(), names.join(", ")),
        }
    };
    println!(
        "  laissés tels quels, un compte de ce nom existant déjà : {}",
        names(&|a| a.outcome == AccountOutcome::UsernameTaken)
    );
    println!(
        "  mot de passe inutilisable, à redéfinir par un administrateur : {}",
        names(&|a| a.unusable_password && matches!(a.outcome, AccountOutcome::Imported(_)))
    );
    let refused: Vec<_> = report
        .accounts
        .iter()
        .filter_map(|a| match a.outcome {
            AccountOutcome::Refused(reason) => Some((&a.username, reason)),
            _ => None,
        })
        .collect();
    println!("  refusés : {}", refused.len());
    for (username, reason) in refused {
        // The username as it is would reach the terminal: escaped.
        println!(
            "    compte « {} » non importé : {reason}",
            escape_controls(username)
        );
    }

    let d = &report.dossiers;
    println!("Dossiers ({} lus)", d.read);
    println!("  {} : {}", verb("créés", "à créer"), d.created);
    println!(
        "  {} : {}",
        verb("mis à jour", "à mettre à jour"),
        d.updated
    );
    println!("  inchangés (déjà là, pas plus anciens) : {}", d.unchanged);
    println!("  ignorés, illisibles : {}", d.skipped.len());
    for (ds_id, reason) in d.skipped.iter().take(SKIPPED_SHOWN) {
        println!("    dossier {ds_id} : {reason}");
    }
    if d.skipped.len() > SKIPPED_SHOWN {
        println!(
            "    … et {} autres (voir le journal)",
            d.skipped.len() - SKIPPED_SHOWN
        );
    }
    println!("Durée : {:.1} s", report.duration.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_procedure_comes_from_the_flag_or_the_single_configured_one() {
        assert_eq!(procedure(Some(3), &[1, 2]).unwrap(), 3);
        assert_eq!(procedure(None, &[12345]).unwrap(), 12345);
        assert!(
            procedure(None, &[])
                .unwrap_err()
                .to_string()
                .contains("--procedure")
        );
        assert!(
            procedure(None, &[1, 2])
                .unwrap_err()
                .to_string()
                .contains("(1, 2)")
        );
    }
}
