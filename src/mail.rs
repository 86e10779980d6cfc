//! Sending e-mail (SPEC 9.3) through an SMTP server with `lettre`, to the log (`console`), or to
//! a file (the demo's). A message counts as sent only once the server has accepted it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment as AttachedFile, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailSettings, SmtpSetting};

/// How long a connection to the SMTP server, or one of its answers, may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(
        "WIF_EMAIL_FROM : « {0} » n'est pas une adresse d'expédition (exemple : Work in France <ne-pas-repondre@exemple.gouv.fr>)"
    )]
    From(String),
    #[error("WIF_SMTP_URL : adresse du serveur SMTP inutilisable ({0})")]
    Url(String),
    #[error("adresse du destinataire invalide : « {0} »")]
    Recipient(String),
    #[error("message impossible à construire ({0})")]
    Build(String),
    #[error("le serveur SMTP n'a pas accepté le message ({0})")]
    Send(String),
}

/// An e-mail to one recipient, in plain text, with a file attached or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attachment: Option<Attachment>,
}

/// A file sent with an e-mail.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    /// A MIME type, such as `text/csv`.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} octets)", self.file_name, self.bytes.len())
    }
}

#[derive(Clone)]
pub enum Mailer {
    /// No `WIF_SMTP_URL`: nothing is sent.
    Off,
    /// Each e-mail is written to the log.
    Console,
    /// Each e-mail is appended to this text file: the demo's, whose terminal would otherwise
    /// scroll through every digest before the lines a newcomer needs.
    File(PathBuf),
    Smtp(Box<SmtpMailer>),
}

/// The transport to the SMTP server and the sender of every message.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(settings: &EmailSettings) -> Result<Mailer, MailError> {
        let from = || {
            settings
                .from
                .parse::<Mailbox>()
                .map_err(|_| MailError::From(settings.from.clone()))
        };
        Ok(match &settings.smtp {
            SmtpSetting::Off => Mailer::Off,
            SmtpSetting::Console => {
                from()?;
                Mailer::Console
            }
            SmtpSetting::Url(url) => {
                let transport =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url(url.expose()))
                        .map_err(|e| MailError::Url(e.to_string()))?
                        .timeout(Some(SMTP_TIMEOUT))
                        .build();
                Mailer::Smtp(Box::new(SmtpMailer {
                    transport,
                    from: from()?,
                }))
            }
        })
    }

    /// A mailer appending each e-mail to the text file `path`, made when first written to.
    pub fn to_file(path: PathBuf) -> Mailer {
        Mailer::File(path)
    }

    /// Whether e-mails leave the process at all.
    pub fn is_on(&self) -> bool {
        !matches!(self, Mailer::Off)
    }

    /// Sends `email`; `Ok` means the SMTP server accepted it (or it was logged, with `console`).
    pub async fn send(&self, email: &Email) -> Result<(), MailError> {
        match self {
            Mailer::Off => Err(MailError::Send(
                "l'envoi d'e-mails n'est pas configuré".into(),
            )),
            Mailer::Console => {
                tracing::info!(
                    to = %email.to,
                    subject = %email.subject,
                    body = ?email.body,
                    attachment = ?email.attachment,
                    "e-mail (WIF_SMTP_URL=console : écrit ici, pas envoyé)"
                );
                Ok(())
            }
            Mailer::File(path) => {
                let (path, entry) = (path.clone(), file_entry(email));
                tokio::task::spawn_blocking(move || append(&path, &entry))
                    .await
                    .map_err(|e| MailError::Send(e.to_string()))?
            }
            Mailer::Smtp(smtp) => {
                let SmtpMailer { transport, from } = smtp.as_ref();
                let to = email
                    .to
                    .parse::<Mailbox>()
                    .map_err(|_| MailError::Recipient(email.to.clone()))?;
                let builder = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&email.subject);
                let message = match &email.attachment {
                    None => builder
                        .header(ContentType::TEXT_PLAIN)
                        .body(email.body.clone()),
                    Some(file) => {
                        let content_type = ContentType::parse(file.content_type)
                            .map_err(|e| MailError::Build(e.to_string()))?;
                        builder.multipart(
                            MultiPart::mixed()
                                .singlepart(SinglePart::plain(email.body.clone()))
                                .singlepart(
                                    AttachedFile::new(file.file_name.clone())
                                        .body(file.bytes.clone(), content_type),
                                ),
                        )
                    }
                }
                .map_err(|e| MailError::Build(e.to_string()))?;
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| MailError::Send(e.to_string()))
            }
        }
    }
}

/// An e-mail as it reads in the demo's file: recipient, subject, attached file, body.
fn file_entry(email: &Email) -> String {
    let mut entry = format!("À : {}\nObjet : {}\n", email.to, email.subject);
    if let Some(file) = &email.attachment {
        entry.push_str(&format!("Pièce jointe : {file:?}\n"));
    }
    entry.push_str(&format!(
        "\n{}\n{}\n",
        email.body.trim_end(),
        "-".repeat(72)
    ));
    entry
}

/// Adds `entry` at the end of the file in one write, so that concurrent sends do not mix.
fn append(path: &Path, entry: &str) -> Result<(), MailError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(entry.as_bytes()))
        .map_err(|e| MailError::Send(format!("{} : {e}", path.display())))
}

/// Our URL conventions (SPEC 3) in lettre's: `smtp://` means STARTTLS required unless
/// `tls=none` asks for a plain local relay; `smtps://` is TLS from the start.
fn lettre_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let plain = params.iter().any(|p| p.eq_ignore_ascii_case("tls=none"));
    params.retain(|p| !p.eq_ignore_ascii_case("tls=none"));
    let has_tls = params.iter().any(|p| p.starts_with("tls="));
    if base.starts_with("smtp://") && !plain && !has_tls {
        params.push("tls=required");
    }
    match params.is_empty() {
        true => base.to_owned(),
        false => format!("{base}?{}", params.join("&")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_require_starttls_unless_told_otherwise() {
        assert_eq!(
            lettre_url("smtp://u:p@mail.example:587"),
            "smtp://u:p@mail.example:587?tls=required"
        );
        assert_eq!(lettre_url("smtp://relay:25?tls=none"), "smtp://relay:25");
        assert_eq!(
            lettre_url("smtp://relay:25?tls=NONE&x=1"),
            "smtp://relay:25?x=1"
        );
        assert_eq!(
            lettre_url("smtp://relay:25?tls=opportunistic"),
            "smtp://relay:25?tls=opportunistic"
        );
        assert_eq!(lettre_url("smtps://u:p@mail:465"), "smtps://u:p@mail:465");
    }

    #[tokio::test]
    async fn the_file_mailer_appends_each_e_mail_readably() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emails.log");
        let mailer = Mailer::to_file(path.clone());
        assert!(mailer.is_on());
        let digest = Email {
            to: "agent@dreets.gouv.fr".into(),
            subject: "2 nouvelles alertes".into(),
            body: "Bonjour,\n\n- Dossier 21\n".into(),
            attachment: None,
        };
        let report = Email {
            to: "pilotage@dreets.gouv.fr".into(),
            subject: "Rapport d'octobre".into(),
            body: "Dossiers décidés : 9".into(),
            attachment: Some(Attachment {
                file_name: "rapport.xlsx".into(),
                content_type: "application/octet-stream",
                bytes: vec![0; 10],
            }),
        };
        mailer.send(&digest).await.unwrap();
        mailer.send(&report).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let separator = "-".repeat(72);
        let entries: Vec<&str> = text.split_terminator(&format!("{separator}\n")).collect();
        assert_eq!(
            entries,
            [
                "À : agent@dreets.gouv.fr\nObjet : 2 nouvelles alertes\n\nBonjour,\n\n- Dossier 21\n",
                "À : pilotage@dreets.gouv.fr\nObjet : Rapport d'octobre\n\
                 Pièce jointe : rapport.xlsx (10 octets)\n\nDossiers décidés : 9\n",
            ]
        );

        let unwritable = Mailer::to_file(dir.path().join("absent/emails.log"));
        let error = unwritable.send(&digest).await.unwrap_err().to_string();
        assert!(error.contains("absent/emails.log"), "{error}");
    }

    #[test]
    fn a_bad_sender_is_named() {
        let settings = EmailSettings {
            smtp: SmtpSetting::Console,
            from: "pas une adresse".into(),
        };
        let error = Mailer::new(&settings).err().unwrap().to_string();
        assert!(error.starts_with("WIF_EMAIL_FROM"), "{error}");
    }
}
