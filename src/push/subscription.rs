//! A browser's push subscription, as `push_subscribe` takes it and the sender uses it: an
//! `https` endpoint at a push service the deployment names, and the keys its payloads are
//! sealed for. Everything is checked before anything is kept, so a subscription in the table
//! is always one a push can be sealed and sent to.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;

use super::ece::{self, Receiver};

/// The longest endpoint taken: the push services' are about 200 bytes.
pub const MAX_ENDPOINT_BYTES: usize = 1024;
/// How many subscriptions a person keeps: a new one past it replaces their oldest.
pub const MAX_PER_PERSON: usize = 10;

/// Why a subscription is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("the endpoint is longer than {MAX_ENDPOINT_BYTES} bytes")]
    TooLong,
    #[error("the endpoint is not an https URL")]
    NotHttps,
    #[error("the endpoint's host is not a push service this deployment sends to")]
    UnknownService,
    #[error("keys.p256dh is not a P-256 public key, uncompressed and base64url")]
    BadPublicKey,
    #[error("keys.auth is not 16 bytes, base64url")]
    BadAuth,
}

/// The push services a deployment sends to: host names, or `*.` and a domain for any host
/// under it, each at the push services' own port, 443, unless the entry names another
/// (`host:port`, for a stand-in on this machine). A subscription names its endpoint, so a port
/// of its choosing would make every push a connection to wherever it likes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services(Vec<(String, u16)>);

/// The port every browser's push service listens on.
const PUSH_PORT: u16 = 443;

/// The browsers' push services: Chrome's (FCM), Firefox's, Edge's (WNS) and Safari's.
pub const DEFAULT_SERVICES: &str = "fcm.googleapis.com,updates.push.services.mozilla.com,\
    *.push.services.mozilla.com,*.notify.windows.com,web.push.apple.com,*.push.apple.com";

impl Services {
    /// The comma-separated list of `PUSH_SERVICES`; `None` when it names nothing or an entry's
    /// port is not a number.
    pub fn parse(list: &str) -> Option<Self> {
        let mut services = Vec::new();
        for entry in list
            .split(',')
            .map(|entry| entry.trim().to_ascii_lowercase())
        {
            if entry.is_empty() {
                continue;
            }
            services.push(match entry.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), port.parse().ok()?),
                None => (entry, PUSH_PORT),
            });
        }
        (!services.is_empty()).then_some(Self(services))
    }

    /// Whether `host` at `port` is one of them: `*.example.com` takes `a.example.com`, not
    /// `example.com` nor `aexample.com`.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        self.0.iter().any(|(allowed, allowed_port)| {
            *allowed_port == port
                && match allowed.strip_prefix("*.") {
                    Some(domain) => host
                        .strip_suffix(domain)
                        .is_some_and(|label| label.len() > 1 && label.ends_with('.')),
                    None => host == *allowed,
                }
        })
    }
}

/// A subscription whose endpoint and keys have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: Url,
    pub receiver: Receiver,
}

impl Subscription {
    /// Checks a subscription as the browser's `PushSubscription.toJSON()` gives it.
    pub fn parse(
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        services: &Services,
    ) -> Result<Self, SubscriptionError> {
        if endpoint.len() > MAX_ENDPOINT_BYTES {
            return Err(SubscriptionError::TooLong);
        }
        let url = Url::parse(endpoint).map_err(|_| SubscriptionError::NotHttps)?;
        if url.scheme() != "https" || !url.username().is_empty() || url.password().is_some() {
            return Err(SubscriptionError::NotHttps);
        }
        match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) if services.allows(host, port) => {}
            _ => return Err(SubscriptionError::UnknownService),
        }
        let public_key = URL_SAFE_NO_PAD
            .decode(p256dh.trim_end_matches('='))
            .ok()
            .filter(|key| key.len() == 65 && ece::is_public_key(key))
            .ok_or(SubscriptionError::BadPublicKey)?;
        let auth = URL_SAFE_NO_PAD
            .decode(auth.trim_end_matches('='))
            .ok()
            .and_then(|auth| <[u8; 16]>::try_from(auth).ok())
            .ok_or(SubscriptionError::BadAuth)?;
        Ok(Self {
            endpoint: url,
            receiver: Receiver { public_key, auth },
        })
    }

    /// The key the table keeps it under: a hash of the endpoint, which is the subscription's
    /// identity (a browser that renews it gets a new endpoint).
    pub fn key(&self) -> String {
        key_of(self.endpoint.as_str())
    }

    /// The endpoint's origin: the VAPID JWT's audience.
    pub fn audience(&self) -> String {
        self.endpoint.origin().ascii_serialization()
    }

    pub fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.receiver.public_key)
    }

    pub fn auth(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.receiver.auth)
    }
}

/// The table's key of the subscription at `endpoint`, as given: SHA-256, base64url.
pub fn key_of(endpoint: &str) -> String {
    let endpoint = Url::parse(endpoint).map_or_else(|_| endpoint.to_owned(), String::from);
    URL_SAFE_NO_PAD.encode(digest(&SHA256, endpoint.as_bytes()))
}

/// The `Topic` of a thread's pushes: a device keeps only the newest push of a topic, so a
/// person holds one notification per thread. At most 32 characters of the URL-safe alphabet
/// (RFC 8030 5.4): 24 bytes of the thread id's SHA-256.
pub fn topic_of(thread_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(&digest(&SHA256, thread_id.as_bytes()).as_ref()[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    fn services() -> Services {
        Services::parse(DEFAULT_SERVICES).unwrap()
    }

    #[test]
    fn a_browser_s_subscription_to_a_known_service_is_taken() {
        let endpoint = "https://fcm.googleapis.com/fcm/send/abc:def";
        let subscription = Subscription::parse(endpoint, P256DH, AUTH, &services()).unwrap();
        assert_eq!(subscription.audience(), "https://fcm.googleapis.com");
        assert_eq!(subscription.p256dh(), P256DH);
        assert_eq!(subscription.auth(), AUTH);
        assert_eq!(subscription.key(), key_of(endpoint));
        let padded = format!("{AUTH}==");
        assert!(Subscription::parse(endpoint, P256DH, &padded, &services()).is_ok());
        let edge = "https://wns2-by3p.notify.windows.com/w/?token=x";
        assert!(Subscription::parse(edge, P256DH, AUTH, &services()).is_ok());
    }

    #[test]
    fn an_endpoint_that_is_not_https_at_a_known_service_and_short_is_refused() {
        let refused = |endpoint: &str| Subscription::parse(endpoint, P256DH, AUTH, &services());
        use SubscriptionError::*;
        assert_eq!(
            refused("http://fcm.googleapis.com/fcm/send/x"),
            Err(NotHttps)
        );
        assert_eq!(refused("not a url"), Err(NotHttps));
        assert_eq!(
            refused("https://user:pw@fcm.googleapis.com/x"),
            Err(NotHttps)
        );
        assert_eq!(
            refused("https://push.attacker.example/x"),
            Err(UnknownService)
        );
        assert_eq!(
            refused("https://fcm.googleapis.com.attacker.example/x"),
            Err(UnknownService)
        );
        assert_eq!(
            refused("https://evilnotify.windows.com/x"),
            Err(UnknownService)
        );
        assert_eq!(refused("https://notify.windows.com/x"), Err(UnknownService));
        assert_eq!(
            refused("https://fcm.googleapis.com:8443/fcm/send/x"),
            Err(UnknownService),
            "a push service's own port only"
        );
        assert!(refused("https://fcm.googleapis.com:443/fcm/send/x").is_ok());
        assert_eq!(
            refused("https://169.254.169.254/latest"),
            Err(UnknownService)
        );
        let long = format!(
            "https://fcm.googleapis.com/{}",
            "a".repeat(MAX_ENDPOINT_BYTES)
        );
        assert_eq!(refused(&long), Err(TooLong));
    }

    #[test]
    fn a_service_named_with_a_port_is_taken_at_that_port_alone() {
        let local = Services::parse("127.0.0.1:8443, fcm.googleapis.com").unwrap();
        assert!(local.allows("127.0.0.1", 8443));
        assert!(!local.allows("127.0.0.1", 443));
        assert!(!local.allows("127.0.0.1", 8444));
        assert!(local.allows("fcm.googleapis.com", 443));
        assert!(!local.allows("fcm.googleapis.com", 8443));
        assert_eq!(Services::parse("127.0.0.1:http"), None);
    }

    #[test]
    fn keys_that_are_not_a_point_on_p_256_and_a_16_byte_secret_are_refused() {
        let endpoint = "https://fcm.googleapis.com/fcm/send/x";
        let with =
            |p256dh: &str, auth: &str| Subscription::parse(endpoint, p256dh, auth, &services());
        let off_curve = URL_SAFE_NO_PAD.encode([4u8; 65]);
        assert_eq!(with(&off_curve, AUTH), Err(SubscriptionError::BadPublicKey));
        assert_eq!(with("short", AUTH), Err(SubscriptionError::BadPublicKey));
        assert_eq!(with("!!", AUTH), Err(SubscriptionError::BadPublicKey));
        assert_eq!(with(P256DH, "c2hvcnQ"), Err(SubscriptionError::BadAuth));
        assert_eq!(with(P256DH, ""), Err(SubscriptionError::BadAuth));
    }

    #[test]
    fn a_thread_s_topic_is_32_url_safe_characters_and_its_own() {
        let topic = topic_of("19:abc@thread.v2");
        assert_eq!(topic.len(), 32);
        assert!(
            topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(topic, topic_of("19:abd@thread.v2"));
    }
}
