//! `wif procedures`: the démarches known to the back office and their kind.

use super::open_database;
use crate::cli::ProceduresCommand;
use crate::domain::ProcedureKind;
use crate::store::procedures;

pub async fn run(command: ProceduresCommand) -> anyhow::Result<()> {
    let (_settings, db) = open_database().await?;
    match command {
        ProceduresCommand::List => {
            let list = procedures::list(&db).await?;
            if list.is_empty() {
                println!(
                    "Aucune démarche connue (elles apparaissent avec la première synchronisation)."
                );
            }
            for p in list {
                println!("{}\t{}\t{} dossier(s)", p.id, p.kind.as_str(), p.dossiers);
            }
        }
        ProceduresCommand::SetKind { procedure, kind } => {
            let kind: ProcedureKind = kind.parse()?;
            procedures::set_kind(&db, procedure, kind).await?;
            println!("Démarche {procedure} : type « {} ».", kind.as_str());
        }
    }
    db.close().await;
    Ok(())
}
