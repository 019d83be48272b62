//! E-mail (issue 19, scheduled reports): messages with an attachment sent through an SMTP
//! relay with lettre — STARTTLS on the submission port (587) or TLS from the first byte
//! (465), AUTH with the relay's credentials — and a faithful local stand-in (`standin`) that
//! speaks the same protocol, STARTTLS and AUTH included, for the demo and the tests.

pub mod standin;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How the relay is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS before anything else is said (refused if the
    /// relay does not offer it: no credentials or mail in clear).
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

/// The platform's mail relay.
#[derive(Clone)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: String,
    /// The sender: `VoltLedger <reports@example.com>`.
    pub from: String,
    /// A PEM certificate to trust besides the public roots (a private relay, the stand-in).
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl MailConfig {
    /// `smtp://user:password@host:587` (STARTTLS) or `smtps://user:password@host:465`; the
    /// user and password percent-encoded.
    pub fn parse(url: &str, from: &str, ca_pem: Option<Vec<u8>>) -> Result<Self, String> {
        let (scheme, rest) = url.split_once("://").ok_or("the mail relay: smtp://user:password@host:587 or smtps://…")?;
        let security = match scheme {
            "smtp" => Security::StartTls,
            "smtps" => Security::Tls,
            _ => return Err("the mail relay: smtp:// (STARTTLS) or smtps:// (TLS)".into()),
        };
        let (auth, host_port) = rest.trim_end_matches('/').rsplit_once('@').ok_or("the mail relay needs user:password@")?;
        let (user, password) = auth.split_once(':').ok_or("the mail relay needs user:password@")?;
        let decode =
            |s: &str| percent_decode(s).ok_or_else(|| "the mail relay's user or password is not valid percent-encoding".to_string());
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse::<u16>().map_err(|_| "the mail relay's port is not a number")?),
            None => (host_port.to_string(), if security == Security::Tls { 465 } else { 587 }),
        };
        if host.is_empty() {
            return Err("the mail relay has no host".into());
        }
        from.parse::<Mailbox>().map_err(|e| format!("the mail sender {from:?}: {e}"))?;
        Ok(Self { host, port, security, username: decode(user)?, password: decode(password)?, from: from.to_string(), ca_pem })
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let mut tls = TlsParameters::builder(self.host.clone());
        if let Some(pem) = &self.ca_pem {
            tls = tls.add_root_certificate(Certificate::from_pem(pem).map_err(|e| format!("the mail CA certificate: {e}"))?);
        }
        let tls = tls.build_rustls().map_err(|e| format!("TLS for the mail relay: {e}"))?;
        let tls = match self.security {
            Security::StartTls => Tls::Required(tls),
            Security::Tls => Tls::Wrapper(tls),
        };
        Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .credentials(Credentials::new(self.username.clone(), self.password.clone()))
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build())
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A message with one attachment.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    pub file_name: String,
    pub content_type: String,
    pub attachment: Vec<u8>,
}

/// Whether a failure is worth retrying (the relay or network) or never will work (a bad
/// address, refused recipients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailError {
    pub message: String,
    pub permanent: bool,
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Sends one message through the relay.
pub async fn send(config: &MailConfig, mail: &Mail) -> Result<(), MailError> {
    let permanent = |message: String| MailError { message, permanent: true };
    let mut builder = Message::builder().from(config.from.parse::<Mailbox>().map_err(|e| permanent(format!("sender: {e}")))?);
    for to in &mail.to {
        builder = builder.to(to.parse::<Mailbox>().map_err(|e| permanent(format!("recipient {to:?}: {e}")))?);
    }
    let content_type = ContentType::parse(&mail.content_type).map_err(|e| permanent(format!("content type: {e}")))?;
    let message = builder
        .subject(&mail.subject)
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(mail.body.clone()))
                .singlepart(Attachment::new(mail.file_name.clone()).body(mail.attachment.clone(), content_type)),
        )
        .map_err(|e| permanent(format!("message: {e}")))?;
    let transport = config.transport().map_err(permanent)?;
    transport.send(message).await.map(drop).map_err(|e| MailError { message: format!("SMTP: {e}"), permanent: e.is_permanent() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_parse_with_their_security_and_refuse_the_rest() {
        let c = MailConfig::parse("smtp://reports%40x.cn:p%3Ass@mail.x.cn:587", "VoltLedger <reports@x.cn>", None);
        let got = c.as_ref().map(|c| (c.host.as_str(), c.port, c.security, c.username.as_str(), c.password.as_str()));
        assert_eq!(got, Ok(("mail.x.cn", 587, Security::StartTls, "reports@x.cn", "p:ss")));
        let c = MailConfig::parse("smtps://u:p@mail.x.cn", "a@x.cn", None);
        assert_eq!(c.as_ref().map(|c| (c.port, c.security)), Ok((465, Security::Tls)));
        assert!(MailConfig::parse("http://u:p@x", "a@x.cn", None).is_err());
        assert!(MailConfig::parse("smtp://mail.x.cn:587", "a@x.cn", None).is_err(), "no credentials");
        assert!(MailConfig::parse("smtp://u:p@x:587", "not an address", None).is_err());
    }
}
