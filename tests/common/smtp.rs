//! A local SMTP server for the e-mail tests (Debian's `python3-aiosmtpd`, over TCP), and what
//! the tests read of the messages it received.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A local SMTP server (aiosmtpd) writing what it accepts to a maildir.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    pub fn start(dir: &Path) -> SmtpServer {
        Self::start_on(dir, free_port())
    }

    pub fn start_on(dir: &Path, port: u16) -> SmtpServer {
        let maildir = dir.join("maildir");
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd is needed for the e-mail tests (apt-get install python3-aiosmtpd)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return SmtpServer {
                    child,
                    port,
                    maildir,
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        panic!("the SMTP server did not start on port {port}");
    }

    /// The messages received so far, raw (headers and body), oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The value of a header of a raw message.
pub fn header(message: &str, name: &str) -> String {
    message
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
        .to_owned()
}

/// The body of a message as text, whatever its transfer encoding.
pub fn decoded_body(message: &str) -> String {
    let (headers, body) = message.split_once("\n\n").unwrap_or((message, ""));
    let encoding = headers
        .lines()
        .find_map(|l| l.strip_prefix("Content-Transfer-Encoding: "))
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "base64" => {
            use base64::Engine as _;
            let compact: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap(),
            )
            .unwrap()
        }
        "quoted-printable" => quoted_printable(body),
        _ => body.to_owned(),
    }
}

fn quoted_printable(text: &str) -> String {
    let mut bytes = Vec::new();
    let mut input = text
        .replace("=\r\n", "")
        .replace("=\n", "")
        .into_bytes()
        .into_iter();
    while let Some(b) = input.next() {
        if b == b'=' {
            let hex: Vec<u8> = input.by_ref().take(2).collect();
            let hex = std::str::from_utf8(&hex).unwrap_or("");
            bytes.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
