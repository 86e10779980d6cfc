//! Alerts (SPEC 9): the evaluation of the rules over the stored dossiers, which opens and
//! resolves alerts, and the e-mail digests to the instructors of the dossiers.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use futures_util::TryStreamExt;

use crate::config::{DsSettings, Settings};
use crate::domain::alerts::{AlertCode, AlertRules, StoredRule};
use crate::mail::{Email, Mailer};
use crate::store::alerts::{self as stored, Pending};
use crate::store::emails::{self, Outcome};
use crate::store::{Db, StoreError};

/// The `kind` of a digest in the `emails` table.
pub const DIGEST_KIND: &str = "alert_digest";

/// Dossiers decided longer ago than this are not e-mailed about.
const DECIDED_WITHIN_DAYS: i64 = 30;

/// Openings and resolutions beyond which the table's statistics are refreshed at once (a first
/// evaluation, a rule's delay changed) rather than by autovacuum, later.
const MASS_CHANGE: usize = 10_000;

/// Alerts listed one by one in a digest; the others are counted.
const DIGEST_LINES: usize = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    /// Dossiers the rules were run on.
    pub dossiers: u64,
    pub opened: usize,
    pub resolved: usize,
    /// Open after the evaluation.
    pub open: usize,
}

/// Runs every rule on every dossier not deleted on DS: opens the alerts whose rule now holds,
/// resolves the open ones whose rule no longer holds (or whose dossier left DS).
pub async fn evaluate(
    db: &Db,
    rules: &AlertRules,
    now: DateTime<Utc>,
) -> Result<Evaluation, StoreError> {
    let mut open: HashMap<(i64, AlertCode), i64> = HashMap::new();
    let mut unknown = Vec::new();
    for alert in stored::open(db).await? {
        match alert.code {
            StoredRule::Current(code) => {
                open.insert((alert.ds_id, code), alert.id);
            }
            StoredRule::Retired(_) => unknown.push(alert.id),
        }
    }
    let mut evaluation = Evaluation::default();
    let mut opened = Vec::new();
    let mut still_open = 0;
    let mut facts = stored::facts(db);
    while let Some(dossier) = facts.try_next().await? {
        evaluation.dossiers += 1;
        for code in rules.holding(&dossier.facts, now) {
            match open.remove(&(dossier.ds_id, code)) {
                Some(_) => still_open += 1,
                None => opened.push((dossier.ds_id, code, dossier.department.clone())),
            }
        }
    }
    drop(facts);
    let mut resolved: Vec<i64> = open.into_values().collect();
    resolved.extend(unknown);
    stored::apply(db, &opened, &resolved, now).await?;
    if opened.len() + resolved.len() > MASS_CHANGE {
        stored::refresh_statistics(db).await?;
    }
    evaluation.opened = opened.len();
    evaluation.resolved = resolved.len();
    evaluation.open = still_open + opened.len();
    Ok(evaluation)
}

/// The evaluation that follows every sync (scheduled, manual, command line): logged, and never
/// a reason for the sync to count as failed.
pub async fn evaluate_after_sync(db: &Db, rules: &AlertRules) -> Option<Evaluation> {
    match evaluate(db, rules, Utc::now()).await {
        Ok(e) => {
            tracing::info!(
                opened = e.opened,
                resolved = e.resolved,
                open = e.open,
                "alertes évaluées"
            );
            Some(e)
        }
        Err(error) => {
            tracing::error!(%error, "alertes non évaluées");
            None
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    /// E-mails the server accepted.
    pub sent: usize,
    /// E-mails that failed: their alerts stay to be notified at the next run.
    pub failed: usize,
    /// (alert, recipient) pairs notified now.
    pub notified: usize,
}

/// What a digest needs besides the alerts.
pub struct DigestContext<'a> {
    pub rules: &'a AlertRules,
    pub ds: &'a DsSettings,
    pub time_zone: Tz,
}

impl<'a> DigestContext<'a> {
    pub fn of(settings: &'a Settings) -> DigestContext<'a> {
        DigestContext {
            rules: &settings.alert_rules,
            ds: &settings.ds,
            time_zone: settings.time_zone,
        }
    }
}

/// E-mails each instructor the open alerts of their dossiers that they have not been told of
/// yet, leaving out dossiers decided more than 30 days ago. Each e-mail is recorded; its alerts
/// count as notified only if the server accepted it, so a failed one is retried next time.
pub async fn notify(
    db: &Db,
    mailer: &Mailer,
    context: &DigestContext<'_>,
    now: DateTime<Utc>,
) -> Result<Notification, StoreError> {
    let mut notification = Notification::default();
    if !mailer.is_on() {
        tracing::info!("WIF_SMTP_URL absent : aucun e-mail d'alertes envoyé");
        return Ok(notification);
    }
    let pending = stored::notifiable(db, now - Duration::days(DECIDED_WITHIN_DAYS)).await?;
    let notified = stored::notified(db).await?;
    let mut by_recipient: BTreeMap<String, Vec<&Pending>> = BTreeMap::new();
    for alert in &pending {
        let mut recipients: Vec<String> = alert
            .instructeurs
            .0
            .iter()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        recipients.sort_unstable();
        recipients.dedup();
        for recipient in recipients {
            if !notified.contains(&(alert.id, recipient.clone())) {
                by_recipient.entry(recipient).or_default().push(alert);
            }
        }
    }
    for (recipient, alerts) in by_recipient {
        let email = digest(&recipient, &alerts, context);
        let outcome = mailer.send(&email).await;
        let error = outcome.as_ref().err().map(ToString::to_string);
        let ids: Vec<i64> = alerts.iter().map(|a| a.id).collect();
        let record = Outcome {
            kind: DIGEST_KIND,
            recipient: &recipient,
            subject: &email.subject,
            at: Utc::now(),
            error: error.as_deref(),
        };
        emails::record(db, &record, &ids).await?;
        match &error {
            None => {
                notification.sent += 1;
                notification.notified += ids.len();
            }
            Some(error) => {
                notification.failed += 1;
                tracing::warn!(%error, alerts = ids.len(), "e-mail d'alertes non envoyé, nouvel essai au prochain passage");
            }
        }
    }
    Ok(notification)
}

/// The digest of `alerts` for `recipient`: dossier numbers, rules and DS links, never a name, a
/// birth date or a message.
fn digest(recipient: &str, alerts: &[&Pending], context: &DigestContext<'_>) -> Email {
    let count = alerts.len();
    let subject = match count {
        1 => "Work in France : 1 nouvelle alerte sur vos dossiers".to_owned(),
        n => format!("Work in France : {n} nouvelles alertes sur vos dossiers"),
    };
    let mut body = String::from(
        "Bonjour,\n\nDes alertes se sont ouvertes sur des dossiers APT dont vous êtes instructeur ou instructrice :\n\n",
    );
    for alert in alerts.iter().take(DIGEST_LINES) {
        let rule = context.rules.describe(&alert.code);
        let since = alert
            .opened_at
            .with_timezone(&context.time_zone)
            .format("%d/%m/%Y");
        body.push_str(&format!(
            "- Dossier {} : {rule} (alerte du {since})\n  {}\n",
            alert.ds_id,
            context.ds.dossier_url(alert.procedure_id, alert.ds_id)
        ));
    }
    if count > DIGEST_LINES {
        body.push_str(&format!(
            "\n… et {} autres alertes, à retrouver dans l'administration de Work in France.\n",
            count - DIGEST_LINES
        ));
    }
    body.push_str(
        "\nToutes les alertes ouvertes sont sur la page « Alertes » de l'administration de Work in France.\n\n\
         Ce message est envoyé automatiquement, merci de ne pas y répondre.\n",
    );
    Email {
        to: recipient.to_owned(),
        subject,
        body,
        attachment: None,
    }
}
