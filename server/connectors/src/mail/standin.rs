//! A local SMTP relay that speaks the real protocol (RFC 5321 with STARTTLS, RFC 3207, and
//! AUTH PLAIN/LOGIN, RFC 4954) for the demo and the tests: it offers STARTTLS with a
//! certificate it makes at start (its PEM is what a client must trust), refuses AUTH and
//! mail before TLS and mail before AUTH — as a submission server must — checks the
//! credentials, undoes dot-stuffing and keeps each message (and, with a directory, writes it
//! as an `.eml` file). It can be told to refuse the next messages with a transient error, to
//! test retries.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mail_parser::MimeHeaders;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// A message the relay accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (RFC 5322), dot-stuffing undone.
    pub data: Vec<u8>,
    /// Whether it came over TLS, and who authenticated.
    pub tls: bool,
    pub user: String,
}

impl ReceivedMail {
    pub fn subject(&self) -> String {
        mail_parser::MessageParser::default().parse(&self.data).and_then(|m| m.subject().map(str::to_string)).unwrap_or_default()
    }

    /// The attachments: (file name, content).
    pub fn attachments(&self) -> Vec<(String, Vec<u8>)> {
        let Some(m) = mail_parser::MessageParser::default().parse(&self.data) else { return Vec::new() };
        m.attachments().map(|a| (a.attachment_name().unwrap_or_default().to_string(), a.contents().to_vec())).collect()
    }

    /// The first text part.
    pub fn text(&self) -> String {
        mail_parser::MessageParser::default().parse(&self.data).and_then(|m| m.body_text(0).map(|t| t.to_string())).unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    received: Vec<ReceivedMail>,
    /// Messages still to refuse with 451 at the end of DATA.
    refuse_next: usize,
    /// Refused attempts (reply lines), in order.
    refused: Vec<String>,
}

pub struct SmtpStandIn {
    pub addr: std::net::SocketAddr,
    /// The certificate clients must trust (PEM), for `localhost` and `127.0.0.1`.
    pub ca_pem: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    user: String,
    password: String,
    dir: Option<std::path::PathBuf>,
    state: Arc<Mutex<State>>,
    tls: TlsAcceptor,
}

impl SmtpStandIn {
    /// Listens on `listen` (port 0: any free port), accepting `user`/`password`; with `dir`,
    /// each message is also written there as `<n>.eml`.
    pub async fn start(listen: std::net::SocketAddr, user: &str, password: &str, dir: Option<std::path::PathBuf>) -> std::io::Result<Self> {
        let other = |e: String| std::io::Error::other(e);
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let rcgen::CertifiedKey { cert, key_pair } = rcgen::generate_simple_self_signed(names).map_err(|e| other(e.to_string()))?;
        let chain = vec![rustls::pki_types::CertificateDer::from(cert.der().to_vec())];
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| other(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| other(e.to_string()))?;
        if let Some(d) = &dir {
            std::fs::create_dir_all(d)?;
        }
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::new(Shared {
            user: user.to_string(),
            password: password.to_string(),
            dir,
            state: state.clone(),
            tls: TlsAcceptor::from(Arc::new(config)),
        });
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve(socket, &shared).await {
                        tracing::debug!(cause = %e, "smtp stand-in session ended");
                    }
                });
            }
        });
        Ok(Self { addr, ca_pem: cert.pem(), state, task })
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.state.lock().map(|s| s.received.clone()).unwrap_or_default()
    }

    /// Refuses the next `n` messages with `451 4.3.0` (a transient failure) after DATA.
    pub fn refuse_next(&self, n: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.refuse_next = n;
        }
    }

    /// The refusals it answered, in order.
    pub fn refused(&self) -> Vec<String> {
        self.state.lock().map(|s| s.refused.clone()).unwrap_or_default()
    }
}

async fn serve(socket: tokio::net::TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut plain = BufReader::new(socket);
    plain.get_mut().write_all(b"220 localhost ESMTP VoltLedger stand-in\r\n").await?;
    if !session(&mut plain, false, shared).await? {
        return Ok(());
    }
    // STARTTLS: nothing may be pipelined after it (RFC 3207 §4.2).
    if !plain.buffer().is_empty() {
        plain.get_mut().write_all(b"501 5.5.4 data after STARTTLS\r\n").await?;
        return Ok(());
    }
    let tls = shared.tls.accept(plain.into_inner()).await?;
    let mut secure = BufReader::new(tls);
    session(&mut secure, true, shared).await?;
    Ok(())
}

fn reply_ok(s: &str) -> Vec<u8> {
    format!("{s}\r\n").into_bytes()
}

/// One phase of a session (before or after TLS). Answers true when the client asked for
/// STARTTLS (the caller upgrades and starts the secure phase).
async fn session<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>, tls: bool, shared: &Shared) -> std::io::Result<bool> {
    let mut user: Option<String> = None;
    let mut greeted = false;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    loop {
        let Some(line) = read_line(io).await? else { return Ok(false) };
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("").to_string();
        let answer: Vec<u8> = match verb.as_str() {
            "EHLO" => {
                greeted = true;
                let mut lines = vec!["250-localhost", "250-SIZE 52428800", "250-8BITMIME", "250-PIPELINING"];
                if tls {
                    lines.push("250 AUTH PLAIN LOGIN");
                } else {
                    lines.push("250 STARTTLS");
                }
                lines.join("\r\n").into_bytes().into_iter().chain(*b"\r\n").collect()
            }
            "HELO" => {
                greeted = true;
                reply_ok("250 localhost")
            }
            "STARTTLS" if !tls => {
                io.get_mut().write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
                io.get_mut().flush().await?;
                return Ok(true);
            }
            "STARTTLS" => reply_ok("503 5.5.1 TLS already active"),
            "AUTH" if !tls => reply_ok("530 5.7.0 Must issue a STARTTLS command first"),
            "AUTH" if !greeted => reply_ok("503 5.5.1 EHLO first"),
            "AUTH" => {
                let parts: Vec<&str> = line.split_whitespace().collect();
                let mech = parts.get(1).map(|m| m.to_ascii_uppercase()).unwrap_or_default();
                let pair = match mech.as_str() {
                    "PLAIN" => {
                        let initial = match parts.get(2) {
                            Some(i) => i.to_string(),
                            None => {
                                io.get_mut().write_all(b"334 \r\n").await?;
                                read_line(io).await?.unwrap_or_default()
                            }
                        };
                        B64.decode(initial.trim()).ok().and_then(|raw| {
                            let fields: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
                            match fields.as_slice() {
                                [_, u, p] => Some((String::from_utf8_lossy(u).to_string(), String::from_utf8_lossy(p).to_string())),
                                _ => None,
                            }
                        })
                    }
                    "LOGIN" => {
                        io.get_mut().write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                        let u = read_line(io).await?.unwrap_or_default();
                        io.get_mut().write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                        let p = read_line(io).await?.unwrap_or_default();
                        let d = |s: &str| B64.decode(s.trim()).ok().map(|b| String::from_utf8_lossy(&b).to_string());
                        d(&u).zip(d(&p))
                    }
                    _ => None,
                };
                match pair {
                    Some((u, p)) if u == shared.user && p == shared.password => {
                        user = Some(u);
                        reply_ok("235 2.7.0 Authentication successful")
                    }
                    _ => reply_ok("535 5.7.8 Authentication credentials invalid"),
                }
            }
            "MAIL" if !tls => reply_ok("530 5.7.0 Must issue a STARTTLS command first"),
            "MAIL" if user.is_none() => reply_ok("530 5.7.0 Authentication required"),
            "MAIL" => match angle(&line) {
                Some(a) => {
                    from = Some(a);
                    to.clear();
                    reply_ok("250 2.1.0 Ok")
                }
                None => reply_ok("501 5.1.7 Bad sender address syntax"),
            },
            "RCPT" if from.is_none() => reply_ok("503 5.5.1 MAIL first"),
            "RCPT" => match angle(&line) {
                Some(a) if a.ends_with(".invalid") => reply_ok("550 5.1.1 Recipient address rejected: no such domain"),
                Some(a) => {
                    to.push(a);
                    reply_ok("250 2.1.5 Ok")
                }
                None => reply_ok("501 5.1.3 Bad recipient address syntax"),
            },
            "DATA" if to.is_empty() => reply_ok("503 5.5.1 RCPT first"),
            "DATA" => {
                io.get_mut().write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                io.get_mut().flush().await?;
                let data = read_data(io).await?;
                let refuse = shared.state.lock().map(|mut s| {
                    if s.refuse_next > 0 {
                        s.refuse_next -= 1;
                        s.refused.push("451 4.3.0".into());
                        true
                    } else {
                        false
                    }
                });
                let answer = if refuse.unwrap_or(false) {
                    reply_ok("451 4.3.0 Temporary failure, try again later")
                } else {
                    let mail = ReceivedMail {
                        from: from.clone().unwrap_or_default(),
                        to: to.clone(),
                        data,
                        tls,
                        user: user.clone().unwrap_or_default(),
                    };
                    let n = shared
                        .state
                        .lock()
                        .map(|mut s| {
                            s.received.push(mail.clone());
                            s.received.len()
                        })
                        .unwrap_or(0);
                    if let Some(dir) = &shared.dir {
                        let _ = std::fs::write(dir.join(format!("{n:05}.eml")), &mail.data);
                    }
                    reply_ok("250 2.0.0 Ok: queued")
                };
                from = None;
                to.clear();
                answer
            }
            "RSET" => {
                from = None;
                to.clear();
                reply_ok("250 2.0.0 Ok")
            }
            "NOOP" => reply_ok("250 2.0.0 Ok"),
            "QUIT" => {
                io.get_mut().write_all(b"221 2.0.0 Bye\r\n").await?;
                io.get_mut().flush().await?;
                return Ok(false);
            }
            _ => reply_ok("500 5.5.2 Syntax error, command unrecognized"),
        };
        io.get_mut().write_all(&answer).await?;
        io.get_mut().flush().await?;
    }
}

/// The address in `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn angle(line: &str) -> Option<String> {
    let start = line.find('<')? + 1;
    let end = line[start..].find('>')? + start;
    let a = &line[start..end];
    (a.is_empty() || a.contains('@')).then(|| a.to_string())
}

/// A command line without its CRLF; `None` at the end of the stream. Lines are limited.
async fn read_line<S: AsyncRead + Unpin>(io: &mut BufReader<S>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = (&mut *io).take(4096).read_until(b'\n', &mut buf).await?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_string()))
}

/// The message after DATA up to the lone dot, dot-stuffing undone (at most 50 MB).
async fn read_data<S: AsyncRead + Unpin>(io: &mut BufReader<S>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let mut line = Vec::new();
        if io.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the message ended early"));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(out);
        }
        let body = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        out.extend_from_slice(body);
        if out.len() > 52_428_800 {
            return Err(std::io::Error::other("message too large"));
        }
    }
}
