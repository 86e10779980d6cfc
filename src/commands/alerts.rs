//! `wif alerts`: evaluate the rules now, list the alerts for scripts, send the digests due.

use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::open_database;
use crate::alerts::{self, DigestContext};
use crate::cli::AlertsCommand;
use crate::mail::Mailer;
use crate::store::alerts as stored;

pub async fn run(command: AlertsCommand) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    match command {
        AlertsCommand::Evaluate { now } => {
            let now = now.unwrap_or_else(Utc::now);
            let e = alerts::evaluate(&db, &settings.alert_rules, now).await?;
            println!(
                "{} dossiers évalués : {} alertes ouvertes, {} résolues ; {} alertes ouvertes en tout.",
                e.dossiers, e.opened, e.resolved, e.open
            );
        }
        AlertsCommand::List { all, json } => {
            let time = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
            for alert in stored::all(&db, all).await? {
                let resolved = alert.resolved_at.map(time);
                if json {
                    let line = json!({
                        "ds_id": alert.ds_id,
                        "code": alert.code.as_str(),
                        "opened_at": time(alert.opened_at),
                        "resolved_at": resolved,
                    });
                    println!("{line}");
                } else {
                    println!(
                        "{}\t{}\t{}\t{}",
                        alert.ds_id,
                        alert.code,
                        time(alert.opened_at),
                        resolved.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        AlertsCommand::Notify => {
            let mailer = Mailer::new(&settings.email)?;
            if !mailer.is_on() {
                println!("WIF_SMTP_URL n'est pas configurée : aucun e-mail n'est envoyé.");
            }
            let context = DigestContext::of(&settings);
            let n = alerts::notify(&db, &mailer, &context, Utc::now()).await?;
            println!(
                "{} e-mails envoyés ({} alertes notifiées), {} en échec (nouvel essai au prochain passage).",
                n.sent, n.notified, n.failed
            );
            if n.failed > 0 {
                db.close().await;
                anyhow::bail!(
                    "{} e-mail(s) d'alertes n'ont pas pu être envoyés : voir le journal et la page « E-mails » de l'administration",
                    n.failed
                );
            }
        }
    }
    db.close().await;
    Ok(())
}
