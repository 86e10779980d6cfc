//! An SMTP server embedded in the tests (the `mailin` crate's protocol over a real TCP socket,
//! so `lettre` is tested end to end with nothing to install), and what the tests read of the
//! messages it received.
//!
//! Not `mailin-embedded`: its TLS support turns on rustls's default crypto provider beside the
//! `ring` one the product uses, and a test build would then run with another TLS set-up than the
//! product. These tests send in clear (`tls=none`), so the plain protocol is all they need.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder};

/// A local SMTP server on 127.0.0.1 that accepts every message and keeps it as a file, until
/// dropped.
pub struct SmtpServer {
    pub port: u16,
    mailbox: PathBuf,
    /// Whether connections are served; otherwise closed at once, without a greeting.
    open: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    accepting: Option<JoinHandle<()>>,
}

impl SmtpServer {
    /// A server on a port the system chooses, keeping its messages under `dir`.
    pub fn start(dir: &Path) -> SmtpServer {
        Self::listen(dir, true)
    }

    /// A server that closes every connection unanswered, as one that is down, until `open`.
    pub fn start_closed(dir: &Path) -> SmtpServer {
        Self::listen(dir, false)
    }

    /// Serves the connections from now on.
    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    fn listen(dir: &Path, open: bool) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("the test SMTP server cannot listen: {e}"));
        let port = listener.local_addr().unwrap().port();
        let mailbox = dir.join(format!("smtp-{port}"));
        std::fs::create_dir_all(&mailbox).unwrap();
        let open = Arc::new(AtomicBool::new(open));
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(AtomicU32::new(0));
        let accepting = {
            let (mailbox, open, stop) = (mailbox.clone(), open.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    if !open.load(Ordering::SeqCst) {
                        continue;
                    }
                    let mailbox = Mailbox {
                        dir: mailbox.clone(),
                        received: received.clone(),
                        message: Vec::new(),
                    };
                    std::thread::spawn(move || session(stream, mailbox));
                }
            })
        };
        SmtpServer {
            port,
            mailbox,
            open,
            stop,
            accepting: Some(accepting),
        }
    }

    /// The messages received so far, raw (headers and body, lines ending in `\n`), oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.mailbox)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread up, so that it sees `stop` and the port is free again.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}

/// One client's SMTP session: the greeting, then each line to `mailin` and its answer back.
fn session(stream: TcpStream, mailbox: Mailbox) {
    let peer = stream
        .peer_addr()
        .map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip());
    // A client that goes silent does not keep the thread forever.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut session = SessionBuilder::new("wif-test").build(peer, mailbox);
    if session.greeting().write_to(&mut writer).is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response: Response = session.process(&line);
        match response.action {
            Action::Reply => {
                if response.write_to(&mut writer).is_err() {
                    return;
                }
            }
            Action::NoReply => {}
            // No STARTTLS is offered: an upgrade request ends the session like a close.
            Action::Close | Action::UpgradeTls => {
                let _ = response.write_to(&mut writer);
                let _ = writer.flush();
                return;
            }
        }
    }
}

/// Accepts every sender and recipient, and writes each message to `<n>.eml` in `dir`.
struct Mailbox {
    dir: PathBuf,
    received: Arc<AtomicU32>,
    message: Vec<u8>,
}

impl Handler for Mailbox {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.message.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.message.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let text = String::from_utf8_lossy(&self.message).replace("\r\n", "\n");
        let n = self.received.fetch_add(1, Ordering::SeqCst);
        match std::fs::write(self.dir.join(format!("{n:06}.eml")), text) {
            Ok(()) => mailin::response::OK,
            Err(_) => mailin::response::INTERNAL_ERROR,
        }
    }
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
