//! Web Push's settings: which services subscriptions may name, and how the sender signs and
//! fills pushes.

use super::subscription::{DEFAULT_SERVICES, Services};
use crate::settings::{ConfigError, Lookup};

/// Web Push: which services subscriptions may name, and how the sender signs and fills pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSettings {
    /// `PUSH_PUBLIC_KEY`: the VAPID public key, base64url, the page subscribes with.
    pub public_key: String,
    /// `PUSH_SERVICES`: the push services' hosts an endpoint may name (default
    /// [`DEFAULT_SERVICES`](crate::push::subscription::DEFAULT_SERVICES)).
    pub services: Services,
    /// `PUSH_VAPID_SECRET_ID`: the secret of the VAPID key pair, in the sender.
    pub vapid_secret_id: Option<String>,
    /// `PUSH_CONTACT`: the `mailto:` or `https:` contact the push services are given; set with
    /// the secret.
    pub contact: Option<String>,
    /// `PUSH_CONTENT`: `full` (default: the sender's name and the first 100 characters) or
    /// `none` (only that a message came, and where).
    pub content: bool,
    /// `PUSH_TTL_SECONDS`: how long a push service keeps a push for an offline device (0 to
    /// 28 days, default a day).
    pub ttl_seconds: u32,
}

impl PushSettings {
    /// Reads Web Push's settings; `None` where `PUSH_PUBLIC_KEY` is unset.
    pub fn read(settings: &Lookup) -> Result<Option<Self>, ConfigError> {
        let get = |name| settings.get(name);
        let Some(public_key) = get("PUSH_PUBLIC_KEY") else {
            if get("PUSH_VAPID_SECRET_ID").is_some() {
                return Err(ConfigError::Missing("PUSH_PUBLIC_KEY"));
            }
            return Ok(None);
        };
        let point = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            public_key.trim_end_matches('='),
        );
        if !point.is_ok_and(|point| point.len() == 65 && point[0] == 4) {
            return Err(ConfigError::Invalid(
                "PUSH_PUBLIC_KEY",
                "an uncompressed P-256 point, base64url".into(),
            ));
        }
        let services = get("PUSH_SERVICES").unwrap_or_else(|| DEFAULT_SERVICES.into());
        let services = Services::parse(&services)
            .ok_or_else(|| ConfigError::Invalid("PUSH_SERVICES", "names no host".into()))?;
        let vapid_secret_id = get("PUSH_VAPID_SECRET_ID");
        let contact = get("PUSH_CONTACT");
        match (&vapid_secret_id, &contact) {
            (Some(_), None) => return Err(ConfigError::Missing("PUSH_CONTACT")),
            (_, Some(contact))
                if !(contact.starts_with("mailto:") || contact.starts_with("https://")) =>
            {
                return Err(ConfigError::Invalid(
                    "PUSH_CONTACT",
                    "a mailto: or https:// contact".into(),
                ));
            }
            _ => {}
        }
        let content = match get("PUSH_CONTENT").as_deref() {
            None | Some("full") => true,
            Some("none") => false,
            Some(other) => {
                return Err(ConfigError::Invalid(
                    "PUSH_CONTENT",
                    format!("{other:?} (expected full or none)"),
                ));
            }
        };
        Ok(Some(Self {
            public_key,
            services,
            vapid_secret_id,
            contact,
            content,
            ttl_seconds: settings.bounded("PUSH_TTL_SECONDS", 0..=2_419_200, 86_400)?,
        }))
    }
}
