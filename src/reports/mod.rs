//! Monthly reports by département (SPEC 10): the figures counted by the database and put
//! together by `domain::report`, the XLSX workbook and the CSV table, and the e-mails of
//! `WIF_REPORTS_SCHEDULE`.

use std::collections::{BTreeSet, HashSet};

use chrono::Utc;
use chrono_tz::Tz;

use crate::config::{DsSettings, Settings};
use crate::domain::Scope;
use crate::domain::report::{AptLength, Figures, Month, Report, ReportBuilder};
use crate::mail::{Attachment, Email, Mailer};
use crate::store::emails::{self, Outcome, ReportKey};
use crate::store::reports::{self as stored, Decided};
use crate::store::{Db, StoreError, dossier_lists, users};

pub mod csv;
pub mod xlsx;

/// The `kind` of a report's e-mail in the `emails` table.
pub const EMAIL_KIND: &str = "monthly_report";

/// The name of the dossiers without a département.
pub const NO_DEPARTMENT: &str = "Non renseigné";

/// The columns of the national table, in the page, the workbook and the CSV file.
pub const COLUMNS: [&str; 9] = [
    "Département",
    "Acceptés, APT ≤ 3 mois",
    "Acceptés, APT > 3 mois",
    "Acceptés, durée d'APT inconnue",
    "Acceptés (total)",
    "Refusés",
    "Sans suite",
    "Décidés (total)",
    "Délai médian du dépôt à la décision (jours)",
];

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("le classeur du rapport n'a pas pu être écrit ({0})")]
    Workbook(String),
}

/// A département's name as reports show it.
pub fn department_name(department: Option<&str>) -> &str {
    department.unwrap_or(NO_DEPARTMENT)
}

/// « octobre 2026 ».
pub fn month_label(month: Month) -> String {
    format!(
        "{} {}",
        crate::web::MONTHS[month.number() as usize - 1],
        month.year()
    )
}

/// « APT ≤ 3 mois », as the nationality rankings are headed.
pub fn length_label(length: AptLength) -> &'static str {
    match length {
        AptLength::UpToThreeMonths => "APT ≤ 3 mois",
        AptLength::MoreThanThreeMonths => "APT > 3 mois",
        AptLength::Unknown => "durée d'APT inconnue",
    }
}

/// The counts of a row of the national table, after the département: the columns 1 to 7.
pub fn counts(figures: &Figures) -> [u64; 7] {
    [
        figures.accepted(AptLength::UpToThreeMonths),
        figures.accepted(AptLength::MoreThanThreeMonths),
        figures.accepted(AptLength::Unknown),
        figures.accepted_total(),
        figures.refused,
        figures.without_continuation,
        figures.decided(),
    ]
}

/// A number with a decimal comma: « 12 », « 12,5 ».
pub fn decimal(value: f64) -> String {
    value.to_string().replace('.', ",")
}

/// A median in French, or « — » when nothing was decided.
pub fn median_text(median: Option<f64>) -> String {
    median.map_or_else(|| "—".to_owned(), decimal)
}

/// The report of `month` for what `scope` may see: its départements only (every one of them,
/// even without a decision), or every département known and the dossiers without one.
pub async fn compute(
    db: &Db,
    month: Month,
    time_zone: Tz,
    scope: &Scope,
) -> Result<Report, StoreError> {
    let (start, end) = month.bounds(time_zone);
    let decided = Decided { start, end, scope };
    let departments = match scope.departments() {
        Some(departments) => departments.to_vec(),
        None => dossier_lists::departments(db).await?,
    };
    let (decisions, nationalities, days, refused) = tokio::try_join!(
        stored::decisions(db, &decided),
        stored::nationalities(db, &decided),
        stored::processing_days(db, &decided),
        stored::refused(db, &decided),
    )?;
    let mut builder = ReportBuilder::new(month, departments);
    for row in decisions {
        builder.add_decisions(row.department.as_deref(), row.status, row.length, row.count);
    }
    for row in nationalities {
        builder.add_nationality(
            row.department.as_deref(),
            row.length,
            &row.nationality,
            row.count,
        );
    }
    for row in days {
        builder.add_processing_days(row.department.as_deref(), row.days, row.count);
    }
    for (department, dossier) in refused {
        builder.add_refused(department.as_deref(), dossier);
    }
    Ok(builder.finish())
}

/// Whether a département is known: some dossier or account has it.
pub async fn is_known_department(db: &Db, department: &str) -> Result<bool, StoreError> {
    Ok(dossier_lists::departments(db)
        .await?
        .iter()
        .any(|d| d == department))
}

/// The file name of a report: `rapport-wif-2026-10.xlsx`, or with the département
/// `rapport-wif-2026-10-75-paris.xlsx`.
pub fn file_name(month: Month, department: Option<&str>, extension: &str) -> String {
    let suffix: String = match department {
        None => String::new(),
        Some(department) => {
            use unicode_normalization::UnicodeNormalization;
            let plain: String = department
                .nfd()
                .filter(char::is_ascii)
                .map(|c| match c.is_ascii_alphanumeric() {
                    true => c.to_ascii_lowercase(),
                    false => '-',
                })
                .collect();
            let words: Vec<&str> = plain.split('-').filter(|w| !w.is_empty()).collect();
            format!("-{}", words.join("-"))
        }
    };
    format!("rapport-wif-{month}{suffix}.{extension}")
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Mailing {
    /// E-mails the server accepted.
    pub sent: usize,
    /// E-mails the server refused, or not sent because their report could not be prepared
    /// (at least one for each such report).
    pub failed: usize,
}

/// E-mails the report of `month`: the national workbook to `WIF_REPORTS_RECIPIENTS`, each
/// département's to the active agents limited to it. Each e-mail is recorded with its (month,
/// département, recipient); one the server already accepted is not sent again, so that running
/// this again sends only what failed. A report that cannot be prepared is counted as failed and
/// the others are still sent. The body holds figures only, the workbook the refused dossiers'
/// numbers and links, never a name.
pub async fn send(
    db: &Db,
    mailer: &Mailer,
    settings: &Settings,
    month: Month,
) -> Result<Mailing, ReportError> {
    let mut mailing = Mailing::default();
    if !mailer.is_on() {
        tracing::info!("WIF_SMTP_URL absent : aucun rapport mensuel envoyé");
        return Ok(mailing);
    }
    let report = compute(db, month, settings.time_zone, &Scope::National).await?;
    let already = emails::reports_sent(db, month).await?;
    let mut outbox = Outbox {
        db,
        mailer,
        ds: &settings.ds,
        already: &already,
        mailing: &mut mailing,
    };
    let recipients: BTreeSet<String> = settings
        .reports_recipients
        .iter()
        .map(|a| a.to_lowercase())
        .collect();
    if !recipients.is_empty() {
        outbox.send(&report, None, &recipients).await;
    }
    for row in &report.departments {
        let Some(department) = row.department.as_deref() else {
            continue;
        };
        let agents: BTreeSet<String> = match users::agents_of_department(db, department).await {
            Ok(agents) => agents
                .into_iter()
                .map(|u| u.email.trim().to_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
            Err(error) => {
                outbox.give_up(month, Some(department), 1, &error.into());
                continue;
            }
        };
        if agents.is_empty() {
            continue;
        }
        let Some(own) = report.only(Some(department)) else {
            continue;
        };
        outbox.send(&own, Some(department), &agents).await;
    }
    Ok(mailing)
}

/// Where the e-mails of a run go, and what they did.
struct Outbox<'a> {
    db: &'a Db,
    mailer: &'a Mailer,
    ds: &'a DsSettings,
    /// (département, recipient) of the month's reports already accepted by the server.
    already: &'a HashSet<(Option<String>, String)>,
    mailing: &'a mut Mailing,
}

impl Outbox<'_> {
    /// Sends `report` to each of `recipients` not sent it yet, its workbook written once. A
    /// failure stops this report only: it is counted, logged, and the caller goes on.
    async fn send(
        &mut self,
        report: &Report,
        department: Option<&str>,
        recipients: &BTreeSet<String>,
    ) {
        let due: Vec<&String> = recipients
            .iter()
            .filter(|to| {
                !self
                    .already
                    .contains(&(department.map(str::to_owned), (*to).clone()))
            })
            .collect();
        if due.is_empty() {
            return;
        }
        let attachment = match workbook_attachment(report, department, self.ds).await {
            Ok(attachment) => attachment,
            Err(error) => return self.give_up(report.month, department, due.len(), &error),
        };
        let key = ReportKey {
            month: report.month,
            department,
        };
        for (i, to) in due.iter().enumerate() {
            let email = report_email(to, report, department, attachment.clone());
            if let Err(error) = deliver(self.db, self.mailer, &email, key, self.mailing).await {
                let unsent = due.len() - i;
                return self.give_up(report.month, department, unsent, &error.into());
            }
        }
    }

    /// Counts the `unsent` e-mails of a report that could not be sent (at least one), and says
    /// why in one sentence of the log (on stderr for `wif report --send`).
    fn give_up(
        &mut self,
        month: Month,
        department: Option<&str>,
        unsent: usize,
        error: &ReportError,
    ) {
        self.mailing.failed += unsent.max(1);
        tracing::error!(
            "le rapport mensuel de {} ({}) n'a pas été envoyé : {error}",
            month_label(month),
            place(department),
        );
    }
}

/// The workbook of `report`, written on the blocking pool, as an e-mail attachment.
async fn workbook_attachment(
    report: &Report,
    department: Option<&str>,
    ds: &DsSettings,
) -> Result<Attachment, ReportError> {
    let (copy, ds) = (report.clone(), ds.clone());
    let bytes = tokio::task::spawn_blocking(move || xlsx::workbook(&copy, &ds))
        .await
        .map_err(|e| ReportError::Workbook(e.to_string()))??;
    Ok(Attachment {
        file_name: file_name(report.month, department, "xlsx"),
        content_type: xlsx::CONTENT_TYPE,
        bytes,
    })
}

/// Sends one e-mail and records it, sent or failed, with the report it carries.
async fn deliver(
    db: &Db,
    mailer: &Mailer,
    email: &Email,
    key: ReportKey<'_>,
    mailing: &mut Mailing,
) -> Result<(), StoreError> {
    let outcome = mailer.send(email).await;
    let error = outcome.as_ref().err().map(ToString::to_string);
    let record = Outcome {
        kind: EMAIL_KIND,
        recipient: &email.to,
        subject: &email.subject,
        at: Utc::now(),
        error: error.as_deref(),
    };
    emails::record_report(db, &record, key).await?;
    match &error {
        None => mailing.sent += 1,
        Some(error) => {
            mailing.failed += 1;
            tracing::warn!(%error, "rapport mensuel non envoyé");
        }
    }
    Ok(())
}

/// Where a report is for: its département, or « France entière ».
fn place(department: Option<&str>) -> &str {
    department.unwrap_or("France entière")
}

fn subject(month: Month, department: Option<&str>) -> String {
    format!(
        "Work in France : rapport mensuel de {} ({})",
        month_label(month),
        place(department)
    )
}

/// The e-mail of a report: its figures in the body, the workbook attached.
fn report_email(
    to: &str,
    report: &Report,
    department: Option<&str>,
    attachment: Attachment,
) -> Email {
    let month = month_label(report.month);
    let place = place(department);
    let figures = &report.total;
    let [short, long, unknown, accepted, refused, without, decided] = counts(figures);
    let body = format!(
        "Bonjour,\n\n\
         Voici le rapport mensuel de Work in France pour {month} ({place}), en pièce jointe.\n\n\
         Dossiers décidés en {month} : {decided}\n\
         - acceptés : {accepted} (APT de 3 mois au plus : {short}, de plus de 3 mois : {long}, durée inconnue : {unknown})\n\
         - refusés : {refused}\n\
         - sans suite : {without}\n\
         Délai médian du dépôt à la décision : {} jours\n\n\
         Le classeur joint détaille ces chiffres{}, les nationalités les plus fréquentes parmi les \
         dossiers acceptés et la liste des dossiers refusés. Le rapport est aussi sur la page \
         « Rapports mensuels » de l'administration de Work in France.\n\n\
         Ce message est envoyé automatiquement, merci de ne pas y répondre.\n",
        median_text(figures.median_days()),
        match department {
            None => " par département",
            Some(_) => "",
        },
    );
    Email {
        to: to.to_owned(),
        subject: subject(report.month, department),
        body,
        attachment: Some(attachment),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain_ascii() {
        let month: Month = "2026-10".parse().unwrap();
        assert_eq!(file_name(month, None, "xlsx"), "rapport-wif-2026-10.xlsx");
        assert_eq!(
            file_name(month, Some("13 - Bouches-du-Rhône"), "csv"),
            "rapport-wif-2026-10-13-bouches-du-rhone.csv"
        );
    }

    #[test]
    fn medians_are_written_with_a_decimal_comma() {
        assert_eq!(median_text(Some(12.0)), "12");
        assert_eq!(median_text(Some(12.5)), "12,5");
        assert_eq!(median_text(None), "—");
    }
}
