//! `wif report`: a month's report as a workbook or a CSV table, or its e-mails sent now.

use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;

use super::open_database;
use crate::cli::{ReportArgs, ReportFormat};
use crate::domain::Scope;
use crate::domain::report::Month;
use crate::export::{ExportFile, Output};
use crate::mail::Mailer;
use crate::reports::{self, csv, xlsx};

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let month = args
        .month
        .unwrap_or_else(|| Month::before(Utc::now(), settings.time_zone));
    if args.send {
        let mailer = Mailer::new(&settings.email)?;
        if !mailer.is_on() {
            println!("WIF_SMTP_URL n'est pas configurée : aucun e-mail n'est envoyé.");
        }
        let mailing = reports::send(&db, &mailer, &settings, month).await?;
        db.close().await;
        println!(
            "Rapport de {} : {} e-mails envoyés, {} en échec.",
            reports::month_label(month),
            mailing.sent,
            mailing.failed
        );
        if mailing.failed > 0 {
            anyhow::bail!(
                "{} e-mail(s) de rapport n'ont pas pu être envoyés : voir le journal et la page « E-mails » de l'administration",
                mailing.failed
            );
        }
        return Ok(());
    }
    let Some((path, format)) = args.output else {
        anyhow::bail!("indiquez le fichier à écrire avec --output (.xlsx ou .csv), ou --send");
    };
    let scope = match &args.departement {
        None => Scope::National,
        Some(department) => {
            if !reports::is_known_department(&db, department).await? {
                db.close().await;
                anyhow::bail!(
                    "département inconnu : « {department} » ; aucun dossier ni compte ne l'a, écrivez-le comme sur DS (par exemple « 75 - Paris »)"
                );
            }
            Scope::Departments(vec![department.clone()])
        }
    };
    let report = reports::compute(&db, month, settings.time_zone, &scope).await?;
    db.close().await;
    let bytes = match format {
        ReportFormat::Xlsx => xlsx::workbook(&report, &settings.ds)?,
        ReportFormat::Csv => csv::national_table(&report),
    };
    write(path.clone(), &bytes)?;
    println!(
        "Rapport de {} écrit dans {} ({} dossiers décidés).",
        reports::month_label(month),
        path.display(),
        report.total.decided()
    );
    Ok(())
}

/// Writes the file whole or not at all.
fn write(path: PathBuf, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = ExportFile::create(&Output::File(path))?;
    file.write_all(bytes).map_err(|e| file.error(e))?;
    file.commit()?;
    Ok(())
}
