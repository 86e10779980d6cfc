//! Logs: readable on a terminal, one JSON object per line with `WIF_LOG_FORMAT=json`.

use std::fmt;
use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::{FormatFields, MakeWriter};
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the log subscriber on stderr; levels come from `RUST_LOG` (default `info`, without
/// sqlx's slow-statement warnings, which every export over a large base would raise).
pub fn init() {
    let json = std::env::var("WIF_LOG_FORMAT").is_ok_and(|f| f.trim().eq_ignore_ascii_case("json"));
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=error"));
    let ansi = std::io::stderr().is_terminal();
    if json {
        // serde_json escapes control characters itself.
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .json()
            .init();
    } else {
        text(filter, std::io::stderr, ansi).init();
    }
}

/// The terminal's format, its fields' values escaped by `ControlsEscaped`.
fn text<W>(filter: EnvFilter, writer: W, ansi: bool) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .fmt_fields(ControlsEscaped)
        .finish()
}

/// The fields as `DefaultFields` writes them, each control character escaped (`\n`,
/// `\u{1b}`): a value from an applicant or an imported account can neither split a line of
/// the log nor send an escape sequence to the operator's terminal.
struct ControlsEscaped;

impl<'writer> FormatFields<'writer> for ControlsEscaped {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut raw = String::new();
        DefaultFields::new().format_fields(Writer::new(&mut raw), fields)?;
        write!(writer, "{}", escape_controls(&raw))
    }
}

/// `text` with its control characters escaped as Rust writes them (`\n`, `\u{1b}`), every
/// other character as it is; for a terminal or a log line.
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What the subscriber wrote.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_text_log_escapes_control_characters() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = text(EnvFilter::new("info"), move || sink.clone(), false);
        let hostile = "a\nb\x1b[31m\x07\r\u{9b}";
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("import", username = %hostile);
            let _entered = span.enter();
            tracing::warn!(reason = %hostile, email = hostile, "compte refusé : {hostile}");
        });
        let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line = out.strip_suffix('\n').expect("one line");
        assert!(!line.chars().any(char::is_control), "{line:?}");
        for field in ["compte refusé : ", "reason=", "username=", "email=\""] {
            assert!(
                line.contains(&format!(r"{field}a\nb\")),
                "{field} in {line}"
            );
        }
        assert!(line.contains("WARN"), "{line}");
    }

    #[test]
    fn only_control_characters_are_escaped() {
        assert_eq!(
            escape_controls("Zoé « 75 » \"x\" \\"),
            "Zoé « 75 » \"x\" \\"
        );
        assert_eq!(
            escape_controls("a\tb\r\n\x1b\u{7f}"),
            r"a\tb\r\n\u{1b}\u{7f}"
        );
    }
}
