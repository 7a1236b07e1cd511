//! Notifications to citizens by SMS and e-mail, through a transactional outbox. A message is
//! written to the outbox table in the same commit as the change it announces (see the storage
//! crate's `op_enqueue`), then a worker claims a batch under a lease, hands each message to its
//! channel's provider and records the outcome right after the send.
//!
//! What holds (and what does not):
//! - **Nothing is lost.** A message leaves the queue only when a provider accepted it (`sent`) or
//!   refused it for good, or after [`RetryPolicy::max_attempts`] tries (`dead`, listed for
//!   operators). A provider that is down leaves the message queued with its error and a retry
//!   time, with exponential back-off. A worker that dies leaves its claimed messages leased; when
//!   the lease runs out another worker claims them again.
//! - **Delivery is at least once, with a stable identity.** A worker killed after the provider
//!   accepted a message but before its `mark_sent` committed cannot know whether the send
//!   happened: the message is *in doubt*, and it is sent again when its lease runs out, with the
//!   same `Message-ID` (SMTP) or `Idempotency-Key` (HTTP SMS gateway), both derived from the
//!   message's idempotency key, so that a provider recognises it as the same message. No protocol
//!   can close that window against a provider that cannot be asked what it received; it is kept
//!   small (each message is marked right after its own send), and at most
//!   [`WorkerConfig::concurrency`] messages are in doubt when a worker dies.
//! - **A lease is not outrun.** A worker does not start a send whose lease ends within
//!   [`WorkerConfig::send_margin`] (the providers' own time-outs are shorter), so a slow worker
//!   and the one that reclaimed its messages do not send the same message side by side.
//!
//! A message carries no free text: a template key, a language and a few checked tokens (the
//! request's public reference, its status, a short follow-up code). The recipient and the code are
//! sealed with the installation's [`crate::crypto::DataCipher`] in the table and never logged.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt as _;
use sanad_domain::{Lang, PhoneNumber};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::registry::Clock;
use crate::store::StoreError;

// ---------------------------------------------------------------------------------------------
// What a message is
// ---------------------------------------------------------------------------------------------

/// How a message reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        match text {
            "sms" => Some(Channel::Sms),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message was refused before it was queued: the field and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: expected {expected}")]
pub struct InvalidMessage {
    pub field: &'static str,
    pub expected: &'static str,
}

fn invalid(field: &'static str, expected: &'static str) -> InvalidMessage {
    InvalidMessage { field, expected }
}

/// An e-mail address, checked by the SMTP library's own parser (what it accepts, it can send to).
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<EmailAddress, InvalidMessage> {
        let text = text.trim();
        if text.len() > 254 {
            return Err(invalid(
                "recipient",
                "an e-mail address of at most 254 characters",
            ));
        }
        text.parse::<lettre::Address>()
            .map(|a| EmailAddress(a.to_string()))
            .map_err(|_| invalid("recipient", "an e-mail address such as nom@example.ma"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl std::fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailAddress(..)")
    }
}

/// Who a message goes to. Personal data: `Debug` hides it, and nothing logs it.
#[derive(Clone, PartialEq, Eq)]
pub enum Recipient {
    Sms(PhoneNumber),
    Email(EmailAddress),
}

impl Recipient {
    pub fn channel(&self) -> Channel {
        match self {
            Recipient::Sms(_) => Channel::Sms,
            Recipient::Email(_) => Channel::Email,
        }
    }

    /// The address in clear, for the provider (and for sealing).
    pub fn address(&self) -> &str {
        match self {
            Recipient::Sms(p) => p.as_str(),
            Recipient::Email(e) => e.as_str(),
        }
    }

    /// Rebuilds a recipient from its channel and its opened address (as stored).
    pub fn parse(channel: Channel, address: &str) -> Result<Recipient, InvalidMessage> {
        match channel {
            Channel::Sms => PhoneNumber::parse(address)
                .map(Recipient::Sms)
                .map_err(|_| invalid("recipient", PhoneNumber::EXPECTED)),
            Channel::Email => EmailAddress::parse(address).map(Recipient::Email),
        }
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipient({}, ..)", self.channel())
    }
}

/// What a message says, chosen from texts written here (see [`render`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    /// A request was received; gives its reference and, when there is one, the follow-up code.
    RequestReceived,
    /// A request moved to another status.
    RequestStatus,
    /// The document a request asked for can be collected or downloaded.
    DocumentReady,
}

impl Template {
    pub const ALL: [Template; 3] = [
        Template::RequestReceived,
        Template::RequestStatus,
        Template::DocumentReady,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Template::RequestReceived => "request.received",
            Template::RequestStatus => "request.status",
            Template::DocumentReady => "document.ready",
        }
    }

    pub fn parse(key: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.key() == key)
    }
}

/// The statuses a status message has words for; any other is announced as "updated".
pub const KNOWN_STATUSES: [&str; 6] = [
    "received",
    "in_review",
    "documents_requested",
    "approved",
    "rejected",
    "completed",
];

/// A short secret the citizen follows a request with (it fits an SMS). Sealed in the table;
/// `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct FollowUpCode(String);

impl FollowUpCode {
    pub const MAX_CHARS: usize = 10;

    pub fn parse(text: &str) -> Result<FollowUpCode, InvalidMessage> {
        let ok = (4..=Self::MAX_CHARS).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(FollowUpCode(text.to_string()))
        } else {
            Err(invalid("code", "4 to 10 letters or digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for FollowUpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FollowUpCode(..)")
    }
}

/// The values a template fills in: tokens, never free text (no name, no address, no comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// The request's public reference.
    pub reference: String,
    /// A status code such as `approved` (status messages).
    pub status: Option<String>,
    pub code: Option<FollowUpCode>,
}

/// The clear part of [`Params`], as stored (JSON); the code is sealed apart.
#[derive(Serialize, Deserialize)]
pub struct StoredParams {
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl Params {
    pub const MAX_REFERENCE_CHARS: usize = 24;

    pub fn new(
        reference: &str,
        status: Option<&str>,
        code: Option<FollowUpCode>,
    ) -> Result<Params, InvalidMessage> {
        let reference_ok = (1..=Self::MAX_REFERENCE_CHARS).contains(&reference.len())
            && reference
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !reference_ok {
            return Err(invalid(
                "reference",
                "a reference of 1 to 24 letters, digits and dashes",
            ));
        }
        if let Some(s) = status {
            let ok = (1..=32).contains(&s.len())
                && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if !ok {
                return Err(invalid("status", "a status code such as in_review"));
            }
        }
        Ok(Params {
            reference: reference.to_string(),
            status: status.map(str::to_string),
            code,
        })
    }

    /// The clear part as JSON.
    pub fn stored_json(&self) -> String {
        serde_json::to_string(&StoredParams {
            reference: self.reference.clone(),
            status: self.status.clone(),
        })
        .unwrap_or_default()
    }

    /// Reads back what [`Params::stored_json`] wrote, with the opened code.
    pub fn from_stored(json: &str, code: Option<&str>) -> Result<Params, InvalidMessage> {
        let stored: StoredParams =
            serde_json::from_str(json).map_err(|_| invalid("params", "stored parameters"))?;
        let code = code.map(FollowUpCode::parse).transpose()?;
        Params::new(&stored.reference, stored.status.as_deref(), code)
    }
}

/// The key a message is known by: enqueueing the same key twice stores one message, and the
/// providers are given a form of it so that they recognise a resend.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> Result<IdempotencyKey, InvalidMessage> {
        let ok = (1..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(IdempotencyKey(text.to_string()))
        } else {
            Err(invalid(
                "idempotency_key",
                "1 to 128 printable ASCII characters without spaces",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub recipient: Recipient,
    pub template: Template,
    pub language: Lang,
    pub params: Params,
    pub idempotency_key: IdempotencyKey,
    /// What the message is about, e.g. a request's reference; for operators (not personal).
    pub business_ref: Option<String>,
}

impl NewMessage {
    /// A message whose template has the parameters it needs.
    pub fn new(
        recipient: Recipient,
        template: Template,
        language: Lang,
        params: Params,
        idempotency_key: IdempotencyKey,
        business_ref: Option<String>,
    ) -> Result<NewMessage, InvalidMessage> {
        if template == Template::RequestStatus && params.status.is_none() {
            return Err(invalid("status", "the status a status message announces"));
        }
        if let Some(r) = &business_ref
            && (r.is_empty() || r.len() > 64 || !r.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(invalid(
                "business_ref",
                "1 to 64 printable ASCII characters",
            ));
        }
        Ok(NewMessage {
            recipient,
            template,
            language,
            params,
            idempotency_key,
            business_ref,
        })
    }

    pub fn channel(&self) -> Channel {
        self.recipient.channel()
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Waiting for its first try.
    Queued,
    /// Claimed by a worker, under a lease.
    InFlight,
    /// Accepted by a provider.
    Sent,
    /// A try failed; waiting for its retry time.
    Failed,
    /// Given up: refused for good, or too many tries. For operators.
    Dead,
}

impl MessageState {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::InFlight => "in_flight",
            MessageState::Sent => "sent",
            MessageState::Failed => "failed",
            MessageState::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<MessageState> {
        [
            MessageState::Queued,
            MessageState::InFlight,
            MessageState::Sent,
            MessageState::Failed,
            MessageState::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What [`OutboxStore::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    pub id: i64,
    /// False when a message with the same idempotency key was already there (nothing written).
    pub created: bool,
}

/// A claimed message, opened for its provider.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: i64,
    /// `None` when the stored address could not be opened or read back (a retryable failure).
    pub recipient: Option<Recipient>,
    pub channel: Channel,
    /// The stored keys, parsed when the message is rendered (a key this version does not know
    /// makes the message dead, not the batch fail).
    pub template: String,
    pub language: String,
    pub params: Option<Params>,
    pub idempotency_key: String,
    pub business_ref: Option<String>,
    /// Tries started, this one included.
    pub attempts: u32,
    pub created_at: OffsetDateTime,
    /// The end of this worker's lease.
    pub lease_until: OffsetDateTime,
}

/// A message as operators see it: no recipient, no text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageSummary {
    pub id: i64,
    pub channel: Channel,
    pub template: String,
    pub language: String,
    pub business_ref: Option<String>,
    pub state: MessageState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub provider_ref: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it may be claimed next (queued, failed) or when its lease ends (in flight).
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
}

/// The queue at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxStats {
    pub queued: u64,
    pub in_flight: u64,
    pub sent: u64,
    pub failed: u64,
    pub dead: u64,
    /// The creation time of the oldest message not yet sent nor dead.
    #[serde(with = "time::serde::rfc3339::option")]
    pub oldest_unsent: Option<OffsetDateTime>,
}

impl OutboxStats {
    /// How long the oldest message not yet sent nor dead has waited.
    pub fn oldest_age(&self, now: OffsetDateTime) -> Option<Duration> {
        self.oldest_unsent
            .map(|t| (now - t).try_into().unwrap_or(Duration::ZERO))
    }
}

/// The outbox port.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Queues a message (its recipient and code sealed), due now; a second message with the same
    /// idempotency key is not stored, and the first one's id is answered.
    async fn enqueue(
        &self,
        message: &NewMessage,
        at: OffsetDateTime,
    ) -> Result<Enqueued, StoreError>;

    /// Takes up to `limit` due messages for `worker`, oldest due first: queued ones, failed ones
    /// whose retry time has come, and in-flight ones whose lease has run out. Each gets a lease
    /// until `now + lease` and one more attempt. Two workers never hold the same message.
    async fn claim(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<Message>, StoreError>;

    /// Records that a provider accepted the message. False (and nothing written) when `worker`
    /// no longer holds it (its lease ran out and another worker claimed it).
    async fn mark_sent(
        &self,
        id: i64,
        worker: &str,
        provider_ref: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Records a failed try: due again at `retry_at`, or `dead` without one. `error` must not
    /// name the recipient. False when `worker` no longer holds the message.
    async fn mark_failed(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    async fn stats(&self) -> Result<OutboxStats, StoreError>;

    /// The latest dead messages, newest first.
    async fn dead_messages(&self, limit: u32) -> Result<Vec<MessageSummary>, StoreError>;

    /// One message, without its recipient.
    async fn message(&self, id: i64) -> Result<Option<MessageSummary>, StoreError>;
}

// ---------------------------------------------------------------------------------------------
// Texts
// ---------------------------------------------------------------------------------------------

/// A message ready for a provider.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// E-mail only.
    pub subject: Option<String>,
    pub text: String,
}

impl std::fmt::Debug for Rendered {
    // The text holds the follow-up code.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rendered(..)")
    }
}

fn status_words(lang: Lang, status: &str) -> Option<&'static str> {
    let i = KNOWN_STATUSES.iter().position(|s| *s == status)?;
    let words: [&str; 6] = match lang {
        Lang::Fr => [
            "enregistrée",
            "en cours d'examen",
            "pièces demandées",
            "acceptée",
            "refusée",
            "terminée",
        ],
        Lang::En => [
            "received",
            "under review",
            "documents requested",
            "approved",
            "refused",
            "completed",
        ],
        Lang::Ar => [
            "مسجل",
            "قيد الدراسة",
            "وثائق مطلوبة",
            "مقبول",
            "مرفوض",
            "منجز",
        ],
    };
    Some(words[i])
}

/// The short text of a message: the whole SMS, and the first paragraph of the e-mail. French and
/// English stay within the GSM 7-bit alphabet (no `ç`, `ê`, `â`), so that they fit one SMS of 160
/// characters; Arabic is sent as UCS-2, 70 characters.
fn short_text(template: Template, lang: Lang, p: &Params) -> String {
    let r = &p.reference;
    let code = p.code.as_ref().map(FollowUpCode::as_str);
    match (template, lang) {
        (Template::RequestReceived, Lang::Fr) => match code {
            Some(c) => format!("Sanad: demande {r} enregistrée. Code de suivi: {c}"),
            None => format!("Sanad: demande {r} enregistrée."),
        },
        (Template::RequestReceived, Lang::En) => match code {
            Some(c) => format!("Sanad: request {r} received. Follow-up code: {c}"),
            None => format!("Sanad: request {r} received."),
        },
        (Template::RequestReceived, Lang::Ar) => match code {
            Some(c) => format!("سند: سُجل طلبكم {r}. رمز التتبع: {c}"),
            None => format!("سند: سُجل طلبكم {r}."),
        },
        (Template::RequestStatus, lang) => {
            let status = p.status.as_deref().unwrap_or("");
            match (lang, status_words(lang, status)) {
                (Lang::Fr, Some(w)) => format!("Sanad: demande {r}: {w}."),
                (Lang::Fr, None) => format!("Sanad: demande {r} mise à jour."),
                (Lang::En, Some(w)) => format!("Sanad: request {r}: {w}."),
                (Lang::En, None) => format!("Sanad: request {r} updated."),
                (Lang::Ar, Some(w)) => format!("سند: طلبكم {r}: {w}."),
                (Lang::Ar, None) => format!("سند: تم تحديث طلبكم {r}."),
            }
        }
        (Template::DocumentReady, Lang::Fr) => {
            format!("Sanad: le document de la demande {r} est disponible.")
        }
        (Template::DocumentReady, Lang::En) => {
            format!("Sanad: the document of request {r} is ready.")
        }
        (Template::DocumentReady, Lang::Ar) => format!("سند: وثيقة طلبكم {r} جاهزة."),
    }
}

fn subject(lang: Lang, reference: &str) -> String {
    match lang {
        Lang::Fr => format!("Sanad: demande {reference}"),
        Lang::En => format!("Sanad: request {reference}"),
        Lang::Ar => format!("سند: الطلب {reference}"),
    }
}

fn footer(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "Ce message est envoyé automatiquement, merci de ne pas y répondre.",
        Lang::En => "This message was sent automatically; please do not reply.",
        Lang::Ar => "هذه رسالة آلية، يرجى عدم الرد عليها.",
    }
}

/// The words of a message for its channel and language.
pub fn render(template: Template, lang: Lang, params: &Params, channel: Channel) -> Rendered {
    let text = short_text(template, lang, params);
    match channel {
        Channel::Sms => Rendered {
            subject: None,
            text,
        },
        Channel::Email => Rendered {
            subject: Some(subject(lang, &params.reference)),
            text: format!("{text}\n\n{}\n", footer(lang)),
        },
    }
}

/// The characters of the GSM 7-bit default alphabet (one septet each) and of its extension table
/// (two septets each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// Whether a text fits one SMS: 160 septets in the GSM alphabet, else 70 UCS-2 characters.
pub fn fits_one_sms(text: &str) -> bool {
    let mut septets = 0;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENDED.contains(c) {
            septets += 2;
        } else {
            return text.encode_utf16().count() <= 70;
        }
    }
    septets <= 160
}

/// The `Message-ID` of a message: the same for every try, from its idempotency key.
pub fn message_id(idempotency_key: &str, domain: &str) -> String {
    let digest = Sha256::digest(format!("sanad-outbox:{idempotency_key}").as_bytes());
    let domain = if domain.is_empty() {
        "sanad.invalid"
    } else {
        domain
    };
    format!("<{}@{domain}>", &hex::encode(digest)[..32])
}

/// An error text fit to store and log: the recipient replaced, one line, bounded.
pub fn scrub(error: &str, recipient: Option<&Recipient>) -> String {
    let mut text = error.replace(['\r', '\n'], " ");
    if let Some(r) = recipient {
        text = text.replace(r.address(), "<recipient>");
    }
    text.chars().take(500).collect()
}

// ---------------------------------------------------------------------------------------------
// Providers
// ---------------------------------------------------------------------------------------------

/// Why a provider did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Down, timed out, busy: try again later.
    #[error("{0}")]
    Retry(String),
    /// Refused for good (a bad address, a message it will never take).
    #[error("{0}")]
    Permanent(String),
}

/// A provider of one channel.
#[async_trait]
pub trait Sender: Send + Sync + 'static {
    /// Its name, recorded with each message it sends.
    fn provider(&self) -> &'static str;

    /// Sends one message; answers the provider's reference for it.
    async fn send(
        &self,
        message: &Message,
        recipient: &Recipient,
        text: &Rendered,
    ) -> Result<String, SendError>;
}

/// The default provider: the message stays in the outbox table as sent, and one log line names
/// it (id, channel, template, language; never the recipient or the text).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSender;

#[async_trait]
impl Sender for LogSender {
    fn provider(&self) -> &'static str {
        "log"
    }

    async fn send(
        &self,
        message: &Message,
        _recipient: &Recipient,
        _text: &Rendered,
    ) -> Result<String, SendError> {
        tracing::info!(
            message.id = message.id,
            message.channel = %message.channel,
            message.template = %message.template,
            message.language = %message.language,
            "notification recorded (no provider configured for its channel)"
        );
        Ok(format!("log:{}", message.id))
    }
}

/// A password, hidden in `Debug`.
#[derive(Clone)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Where the SMTP provider sends.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: EmailAddress,
    /// Upgrade the connection with STARTTLS (required when set).
    pub starttls: bool,
    pub credentials: Option<(String, Password)>,
    /// For each SMTP command; shorter than the worker's send margin.
    pub timeout: Duration,
    /// Connections kept open to the relay.
    pub connections: u32,
}

impl SmtpConfig {
    /// A plain connection to `host:port` (a local relay), ten-second time-out.
    pub fn new(host: &str, port: u16, from: EmailAddress) -> SmtpConfig {
        SmtpConfig {
            host: host.to_string(),
            port,
            from,
            starttls: false,
            credentials: None,
            timeout: Duration::from_secs(10),
            connections: 8,
        }
    }
}

/// E-mail through an SMTP relay. Each message carries a `Message-ID` derived from its idempotency
/// key, so that a resend after a crash is recognisable downstream.
pub struct SmtpSender {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
    domain: String,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender")
            .field("domain", &self.domain)
            .finish()
    }
}

impl SmtpSender {
    pub fn new(config: &SmtpConfig) -> Result<SmtpSender, SendError> {
        use lettre::transport::smtp::PoolConfig;
        use lettre::transport::smtp::authentication::Credentials;
        // STARTTLS goes through rustls, built without a default provider: ring is it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = if config.starttls {
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|e| SendError::Permanent(format!("SMTP relay {}: {e}", config.host)))?
        } else {
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(&config.host)
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(config.timeout))
            .pool_config(PoolConfig::new().max_size(config.connections.max(1)));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
        }
        let from: lettre::Address = config
            .from
            .as_str()
            .parse()
            .map_err(|e| SendError::Permanent(format!("from address: {e}")))?;
        Ok(SmtpSender {
            transport: builder.build(),
            from: lettre::message::Mailbox::new(Some("Sanad".into()), from),
            domain: config.from.domain().to_string(),
        })
    }
}

#[async_trait]
impl Sender for SmtpSender {
    fn provider(&self) -> &'static str {
        "smtp"
    }

    async fn send(
        &self,
        message: &Message,
        recipient: &Recipient,
        text: &Rendered,
    ) -> Result<String, SendError> {
        use lettre::AsyncTransport as _;
        let Recipient::Email(to) = recipient else {
            return Err(SendError::Permanent(
                "the SMTP provider sends e-mail only".into(),
            ));
        };
        let to: lettre::Address = to
            .as_str()
            .parse()
            .map_err(|_| SendError::Permanent("not an e-mail address".into()))?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(lettre::message::Mailbox::new(None, to))
            .subject(text.subject.clone().unwrap_or_default())
            .message_id(Some(message_id(&message.idempotency_key, &self.domain)))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(text.text.clone())
            .map_err(|e| SendError::Permanent(format!("cannot build the e-mail: {e}")))?;
        match self.transport.send(email).await {
            Ok(response) => Ok(response
                .message()
                .next()
                .map(|l| l.chars().take(200).collect())
                .unwrap_or_else(|| response.code().to_string())),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("SMTP: {e}"))),
            Err(e) => Err(SendError::Retry(format!("SMTP: {e}"))),
        }
    }
}

/// SMS through an HTTP gateway: `POST {to, text, idempotency_key}` as JSON with an
/// `Idempotency-Key` header. 2xx: sent; 408, 429 and 5xx, time-outs and refused connections:
/// retried; any other 4xx: refused for good.
#[derive(Debug, Clone)]
pub struct HttpSmsSender {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl HttpSmsSender {
    pub fn new(url: &str, timeout: Duration) -> Result<HttpSmsSender, SendError> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| SendError::Permanent(format!("SMS gateway URL: {e}")))?;
        // reqwest is built without a default TLS provider (aws-lc-rs needs cmake); ring is it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .map_err(|e| SendError::Permanent(format!("HTTP client: {e}")))?;
        Ok(HttpSmsSender { client, url })
    }
}

#[async_trait]
impl Sender for HttpSmsSender {
    fn provider(&self) -> &'static str {
        "http-sms"
    }

    async fn send(
        &self,
        message: &Message,
        recipient: &Recipient,
        text: &Rendered,
    ) -> Result<String, SendError> {
        let Recipient::Sms(to) = recipient else {
            return Err(SendError::Permanent(
                "the SMS gateway sends SMS only".into(),
            ));
        };
        let answer = self
            .client
            .post(self.url.clone())
            .header("Idempotency-Key", &message.idempotency_key)
            .json(&serde_json::json!({
                "to": to.as_str(),
                "text": text.text,
                "idempotency_key": message.idempotency_key,
            }))
            .send()
            .await
            // Without the URL: it is configuration, but a gateway may put a token in it.
            .map_err(|e| SendError::Retry(format!("SMS gateway: {}", e.without_url())))?;
        let status = answer.status();
        let body = answer.text().await.unwrap_or_default();
        let said: String = body.chars().take(200).collect();
        if status.is_success() {
            // The gateway's id for the message when it answers one, else its status.
            let id = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get("id")
                        .map(|id| id.to_string().trim_matches('"').to_string())
                });
            Ok(id.unwrap_or_else(|| status.as_u16().to_string()))
        } else if status.is_server_error()
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Err(SendError::Retry(format!(
                "SMS gateway answered {status}: {said}"
            )))
        } else {
            Err(SendError::Permanent(format!(
                "SMS gateway answered {status}: {said}"
            )))
        }
    }
}

/// The provider of each channel.
#[derive(Clone)]
pub struct Senders {
    pub sms: Arc<dyn Sender>,
    pub email: Arc<dyn Sender>,
}

impl Default for Senders {
    /// Both channels to the log.
    fn default() -> Self {
        Senders {
            sms: Arc::new(LogSender),
            email: Arc::new(LogSender),
        }
    }
}

impl Senders {
    fn of(&self, channel: Channel) -> &Arc<dyn Sender> {
        match channel {
            Channel::Sms => &self.sms,
            Channel::Email => &self.email,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The worker
// ---------------------------------------------------------------------------------------------

/// When a failed message is tried again, and when it is given up.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The wait after the first failure; doubled after each further one…
    pub first: Duration,
    /// …up to this.
    pub max: Duration,
    /// Tries before a message is dead.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min… up to an hour; dead after 10 tries (about five hours).
    fn default() -> Self {
        RetryPolicy {
            first: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed try, or `None` when that was the last one.
    pub fn after(&self, attempts: u32) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = attempts.saturating_sub(1).min(30);
        Some(self.first.saturating_mul(1u32 << doublings).min(self.max))
    }
}

/// How a worker works.
#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// Messages claimed at a time.
    pub batch: u32,
    /// How long a claim holds a message; a dead worker's messages wait this long.
    pub lease: Duration,
    /// Sends in progress at once (also the most messages in doubt when the worker dies).
    pub concurrency: usize,
    /// No send starts when less than this is left of the lease.
    pub send_margin: Duration,
    /// The pause of [`Outbox::run`] when nothing is due.
    pub idle_poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            batch: 100,
            lease: Duration::from_secs(120),
            concurrency: 8,
            send_margin: Duration::from_secs(30),
            idle_poll: Duration::from_secs(1),
        }
    }
}

/// What a drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    pub claimed: u64,
    pub sent: u64,
    /// Failed tries that will be retried.
    pub retried: u64,
    pub dead: u64,
    /// Left for a later claim: too little lease left to start a send.
    pub skipped: u64,
    /// Sent or failed, but the outcome was not recorded (the lease was lost, or the database
    /// failed): the message will be tried again.
    pub unrecorded: u64,
}

impl DrainReport {
    fn add(&mut self, other: DrainReport) {
        self.claimed += other.claimed;
        self.sent += other.sent;
        self.retried += other.retried;
        self.dead += other.dead;
        self.skipped += other.skipped;
        self.unrecorded += other.unrecorded;
    }
}

/// A random name for this worker: leases of a dead process are never mistaken for its own.
fn worker_name() -> String {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    format!("worker-{}-{}", std::process::id(), hex::encode(bytes))
}

/// The outbox's use-cases: queue a message, drain the queue, read its figures.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn OutboxStore>,
    senders: Senders,
    policy: RetryPolicy,
    config: WorkerConfig,
    worker: String,
    clock: Clock,
}

enum Outcome {
    Sent,
    Retried,
    Dead,
    Skipped,
    Unrecorded,
}

impl Outbox {
    pub fn new(store: Arc<dyn OutboxStore>, senders: Senders) -> Outbox {
        Outbox {
            store,
            senders,
            policy: RetryPolicy::default(),
            config: WorkerConfig::default(),
            worker: worker_name(),
            clock: Arc::new(OffsetDateTime::now_utc),
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Outbox {
        self.policy = policy;
        self
    }

    pub fn with_config(mut self, config: WorkerConfig) -> Outbox {
        self.config = config;
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> Outbox {
        self.clock = clock;
        self
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    pub async fn enqueue(&self, message: &NewMessage) -> Result<Enqueued, StoreError> {
        self.store.enqueue(message, (self.clock)()).await
    }

    pub async fn stats(&self) -> Result<OutboxStats, StoreError> {
        self.store.stats().await
    }

    /// Claims one batch and sends it; each message's outcome is recorded right after its send.
    pub async fn drain_once(&self) -> Result<DrainReport, StoreError> {
        let now = (self.clock)();
        let batch = self
            .store
            .claim(&self.worker, self.config.batch, self.config.lease, now)
            .await?;
        let mut report = DrainReport {
            claimed: batch.len() as u64,
            ..DrainReport::default()
        };
        let outcomes: Vec<Outcome> = futures::stream::iter(batch)
            .map(|m| self.process(m))
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        for o in outcomes {
            match o {
                Outcome::Sent => report.sent += 1,
                Outcome::Retried => report.retried += 1,
                Outcome::Dead => report.dead += 1,
                Outcome::Skipped => report.skipped += 1,
                Outcome::Unrecorded => report.unrecorded += 1,
            }
        }
        Ok(report)
    }

    /// Drains until nothing is due (messages waiting for a retry time later than now stay).
    pub async fn drain(&self) -> Result<DrainReport, StoreError> {
        let mut total = DrainReport::default();
        loop {
            let r = self.drain_once().await?;
            total.add(r);
            // A batch of skipped messages only: they come back when their lease ends.
            if r.claimed == 0 || r.claimed == r.skipped {
                return Ok(total);
            }
        }
    }

    /// Drains until `stop` turns true, pausing when nothing is due and when the database fails.
    pub async fn run(
        &self,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<DrainReport, StoreError> {
        let mut total = DrainReport::default();
        while !*stop.borrow() {
            let pause = match self.drain_once().await {
                Ok(r) => {
                    total.add(r);
                    r.claimed == 0 || r.claimed == r.skipped
                }
                Err(e) => {
                    tracing::warn!(error = %e, worker = %self.worker, "outbox: cannot claim messages");
                    true
                }
            };
            if pause {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.idle_poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        Ok(total)
    }

    async fn process(&self, m: Message) -> Outcome {
        let now = (self.clock)();
        if m.lease_until - now < self.config.send_margin {
            return Outcome::Skipped;
        }
        if m.attempts > self.policy.max_attempts {
            // Claimed again and again without an outcome: a worker dies on it.
            return self
                .fail(&m, "claimed too many times without an outcome", None)
                .await;
        }
        let (Some(template), Some(lang)) = (Template::parse(&m.template), Lang::parse(&m.language))
        else {
            return self
                .fail(
                    &m,
                    "a template or language this version does not know",
                    None,
                )
                .await;
        };
        let (Some(recipient), Some(params)) = (m.recipient.clone(), m.params.clone()) else {
            let retry = self.retry_at(&m);
            return self
                .fail(&m, "the stored recipient or code cannot be opened", retry)
                .await;
        };
        let text = render(template, lang, &params, m.channel);
        let sender = self.senders.of(m.channel);
        // The send ends well before the lease does, whatever the provider's own time-outs: a send
        // cut off here is in doubt, like one whose worker died, and is retried the same way.
        let budget: Duration = (m.lease_until - now - self.config.send_margin / 2)
            .try_into()
            .unwrap_or(Duration::ZERO);
        let sent = match tokio::time::timeout(budget, sender.send(&m, &recipient, &text)).await {
            Ok(answer) => answer,
            Err(_) => Err(SendError::Retry(format!(
                "{}: no answer within the lease",
                sender.provider()
            ))),
        };
        match sent {
            Ok(reference) => {
                // The message is in doubt from here until `mark_sent` commits.
                crate::faults::point("outbox.after_send");
                let reference = scrub(
                    &format!("{}:{reference}", sender.provider()),
                    Some(&recipient),
                );
                match self
                    .store
                    .mark_sent(m.id, &self.worker, &reference, (self.clock)())
                    .await
                {
                    Ok(true) => Outcome::Sent,
                    Ok(false) => {
                        tracing::warn!(message.id = m.id, worker = %self.worker, "outbox: sent after the lease was lost; another worker may send it again");
                        Outcome::Unrecorded
                    }
                    Err(e) => {
                        tracing::error!(message.id = m.id, error = %e, "outbox: sent, but not recorded; it will be sent again when its lease ends");
                        Outcome::Unrecorded
                    }
                }
            }
            Err(SendError::Retry(e)) => {
                let retry = self.retry_at(&m);
                self.fail(&m, &scrub(&e, Some(&recipient)), retry).await
            }
            Err(SendError::Permanent(e)) => self.fail(&m, &scrub(&e, Some(&recipient)), None).await,
        }
    }

    fn retry_at(&self, m: &Message) -> Option<OffsetDateTime> {
        self.policy.after(m.attempts).map(|d| (self.clock)() + d)
    }

    async fn fail(&self, m: &Message, error: &str, retry_at: Option<OffsetDateTime>) -> Outcome {
        let dead = retry_at.is_none();
        tracing::warn!(
            message.id = m.id,
            message.channel = %m.channel,
            message.attempts = m.attempts,
            dead,
            error,
            "outbox: a message was not sent"
        );
        match self
            .store
            .mark_failed(m.id, &self.worker, error, retry_at, (self.clock)())
            .await
        {
            Ok(true) if dead => Outcome::Dead,
            Ok(true) => Outcome::Retried,
            Ok(false) => Outcome::Unrecorded,
            Err(e) => {
                tracing::error!(message.id = m.id, error = %e, "outbox: a failure was not recorded");
                Outcome::Unrecorded
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A recording SMTP server, for the benchmark and the tests
// ---------------------------------------------------------------------------------------------

/// One message an [`SmtpSink`] accepted.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub message_id: Option<String>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub subject: Option<String>,
    pub data: String,
}

/// A minimal SMTP server that accepts every message and records it (EHLO/HELO, MAIL, RCPT,
/// DATA, RSET, NOOP, QUIT; nothing else is offered), so that the benchmark and the tests can count
/// what arrived and how often. It keeps everything in memory and logs nothing.
pub struct SmtpSink {
    addr: SocketAddr,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on `addr` (port 0: any free port).
    pub async fn start(addr: SocketAddr) -> std::io::Result<SmtpSink> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let deliveries: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let store = deliveries.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = sink_session(socket, store).await;
                });
            }
        });
        Ok(SmtpSink {
            addr,
            deliveries,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every message accepted, a resend counted again.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    pub fn count(&self) -> usize {
        self.deliveries.lock().map(|d| d.len()).unwrap_or(0)
    }

    /// Stops listening (open sessions end with their client).
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn sink_session(
    socket: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<Delivery>>>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sanad-sink ESMTP\r\n").await?;
    let mut from = String::new();
    let mut rcpt = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sanad-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 sanad-sink\r\n",
            "MAIL" => {
                from = angle(command);
                rcpt.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                rcpt.push(angle(command));
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    let l = line.trim_end_matches(['\r', '\n']);
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(l));
                    data.push('\n');
                }
                let header = |name: &str| {
                    data.lines().take_while(|l| !l.is_empty()).find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                    })
                };
                let delivery = Delivery {
                    message_id: header("Message-ID"),
                    subject: header("Subject"),
                    mail_from: std::mem::take(&mut from),
                    rcpt_to: std::mem::take(&mut rcpt),
                    data: data.clone(),
                };
                if let Ok(mut d) = store.lock() {
                    d.push(delivery);
                }
                b"250 OK queued\r\n"
            }
            "RSET" => {
                from.clear();
                rcpt.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
}

/// The address between `<` and `>` of a MAIL or RCPT command.
fn angle(command: &str) -> String {
    match (command.find('<'), command.rfind('>')) {
        (Some(a), Some(b)) if b > a => command[a + 1..b].to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn longest(code: bool) -> Params {
        Params::new(
            &"R".repeat(Params::MAX_REFERENCE_CHARS),
            Some("documents_requested"),
            code.then(|| FollowUpCode::parse(&"7".repeat(FollowUpCode::MAX_CHARS)).unwrap()),
        )
        .unwrap()
    }

    #[test]
    fn every_sms_fits_one_sms_with_the_longest_parameters() {
        for template in Template::ALL {
            for lang in Lang::ALL {
                for params in [longest(true), longest(false)] {
                    let text = render(template, lang, &params, Channel::Sms).text;
                    assert!(fits_one_sms(&text), "{template:?} {lang}: {text}");
                }
                let unknown = Params::new("R-1", Some("someday_new"), None).unwrap();
                let text = render(template, lang, &unknown, Channel::Sms).text;
                assert!(fits_one_sms(&text), "{template:?} {lang}: {text}");
            }
        }
        assert!(!fits_one_sms(&"a".repeat(161)));
        assert!(fits_one_sms(&"a".repeat(160)));
        assert!(!fits_one_sms(&"ب".repeat(71)));
        assert!(
            !fits_one_sms(&"ç".repeat(71)),
            "ç is not in the GSM alphabet"
        );
    }

    #[test]
    fn texts_name_the_reference_the_status_and_the_code() {
        let p = Params::new(
            "DM-2026-000042",
            Some("approved"),
            Some(FollowUpCode::parse("K7Q2X9").unwrap()),
        )
        .unwrap();
        let fr = render(Template::RequestReceived, Lang::Fr, &p, Channel::Sms).text;
        assert!(
            fr.contains("DM-2026-000042") && fr.contains("K7Q2X9"),
            "{fr}"
        );
        let en = render(Template::RequestStatus, Lang::En, &p, Channel::Email);
        assert_eq!(en.subject.as_deref(), Some("Sanad: request DM-2026-000042"));
        assert!(
            en.text
                .starts_with("Sanad: request DM-2026-000042: approved.")
        );
        let ar = render(Template::DocumentReady, Lang::Ar, &p, Channel::Sms).text;
        assert!(ar.contains("DM-2026-000042"));
    }

    #[test]
    fn free_text_and_bad_tokens_are_refused() {
        assert!(Params::new("Mohamed El Amrani", None, None).is_err());
        assert!(Params::new("R-1", Some("Approved!"), None).is_err());
        assert!(FollowUpCode::parse("abc").is_err());
        assert!(FollowUpCode::parse("abc 12").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert!(EmailAddress::parse("not an address").is_err());
        let r = Recipient::Email(EmailAddress::parse("fatima@example.ma").unwrap());
        assert!(
            NewMessage::new(
                r,
                Template::RequestStatus,
                Lang::Fr,
                Params::new("R-1", None, None).unwrap(),
                IdempotencyKey::parse("k").unwrap(),
                None
            )
            .is_err(),
            "a status message needs its status"
        );
    }

    #[test]
    fn personal_data_stays_out_of_debug_and_errors() {
        let r = Recipient::Email(EmailAddress::parse("fatima@example.ma").unwrap());
        assert!(!format!("{r:?}").contains("fatima"));
        let code = FollowUpCode::parse("K7Q2X9").unwrap();
        assert!(!format!("{code:?}").contains("K7Q2X9"));
        let e = scrub("550 <fatima@example.ma>: no such user\r\nbye", Some(&r));
        assert_eq!(e, "550 <<recipient>>: no such user  bye");
    }

    #[test]
    fn back_off_doubles_up_to_its_cap_then_gives_up() {
        let p = RetryPolicy {
            first: Duration::from_secs(10),
            max: Duration::from_secs(60),
            max_attempts: 5,
        };
        let waits: Vec<Option<u64>> = (1..=5).map(|a| p.after(a).map(|d| d.as_secs())).collect();
        assert_eq!(waits, [Some(10), Some(20), Some(40), Some(60), None]);
    }

    #[test]
    fn the_message_id_is_stable_and_per_key() {
        let a = message_id("request:42:received", "sanad.example.ma");
        assert_eq!(a, message_id("request:42:received", "sanad.example.ma"));
        assert_ne!(a, message_id("request:43:received", "sanad.example.ma"));
        assert!(a.starts_with('<') && a.ends_with("@sanad.example.ma>"));
    }
}
