//! The real-time channel's settings, read by the functions on the real-time path and the page.

use std::net::SocketAddr;

use crate::acs::Url;
use crate::settings::{ConfigError, Lookup, origin_of, url};

/// The real-time channel's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealtimeSettings {
    /// `REALTIME_PUBLISH_KEY_SECRET_ID`: the secret holding the key our functions publish with
    /// (read by every publisher, and by the authorizer).
    pub publish_key_secret_id: Option<String>,
    /// `REALTIME_WEBHOOK_SECRET_ID`: the secret holding the `code` Event Grid's deliveries
    /// carry (read by `acs_events` alone).
    pub webhook_secret_id: Option<String>,
    /// `REALTIME_PUBLISH_URL`: AppSync Events' HTTP endpoint,
    /// `https://{id}.appsync-api.{region}.amazonaws.com/event`.
    pub publish_url: Option<Url>,
    /// `REALTIME_CONNECT_ADDR`, the local stack only: the address its host name is reached at,
    /// as a local AppSync Events serves every API on one port and tells them apart by host.
    pub connect_addr: Option<SocketAddr>,
    /// `REALTIME_ENTRA_TENANT_ID` with `REALTIME_ENTRA_AUDIENCE` (and `REALTIME_ENTRA_KEYS_URL`
    /// where the keys are not at the public cloud's address): deliveries must also carry an
    /// Entra ID token.
    pub entra: Option<EntraSettings>,
    /// `REALTIME_WS_URL` with `REALTIME_HTTP_HOST`: where the page subscribes.
    pub page: Option<RealtimeAddress>,
}

/// Which Entra ID tokens a delivery may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraSettings {
    pub tenant: String,
    pub audience: String,
    pub keys_url: Url,
}

/// Where the page subscribes: the WebSocket URL and the host named in its authorization.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RealtimeAddress {
    pub ws_url: String,
    pub http_host: String,
}

impl RealtimeAddress {
    /// The URL's scheme, host and port, for the page's policy.
    pub fn origin(&self) -> Option<String> {
        origin_of(&self.ws_url, &["ws", "wss"])
    }
}

impl RealtimeSettings {
    /// Reads the channel's settings; each part is optional, but a part half set is refused.
    pub fn read(settings: &Lookup) -> Result<Self, ConfigError> {
        let get = |name| settings.get(name);
        let connect_addr = get("REALTIME_CONNECT_ADDR")
            .map(|addr| {
                addr.parse()
                    .map_err(|_| ConfigError::Invalid("REALTIME_CONNECT_ADDR", addr.clone()))
            })
            .transpose()?;
        let entra = match (
            get("REALTIME_ENTRA_TENANT_ID"),
            get("REALTIME_ENTRA_AUDIENCE"),
        ) {
            (None, None) => None,
            (Some(tenant), Some(audience)) => {
                if !tenant
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                {
                    return Err(ConfigError::Invalid(
                        "REALTIME_ENTRA_TENANT_ID",
                        "a tenant id or domain".into(),
                    ));
                }
                let keys_url = get("REALTIME_ENTRA_KEYS_URL").unwrap_or_else(|| {
                    format!("https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys")
                });
                let keys_url = url("REALTIME_ENTRA_KEYS_URL", Some(keys_url))?
                    .ok_or(ConfigError::Missing("REALTIME_ENTRA_KEYS_URL"))?;
                Some(EntraSettings {
                    tenant,
                    audience,
                    keys_url,
                })
            }
            (None, Some(_)) => return Err(ConfigError::Missing("REALTIME_ENTRA_TENANT_ID")),
            (Some(_), None) => return Err(ConfigError::Missing("REALTIME_ENTRA_AUDIENCE")),
        };
        let page = match (get("REALTIME_WS_URL"), get("REALTIME_HTTP_HOST")) {
            (Some(ws_url), Some(http_host)) => {
                let address = RealtimeAddress { ws_url, http_host };
                let safe = |text: &str| !text.contains(['"', '\'', ';', ' ', '<', '>']);
                match address.origin() {
                    Some(origin) if safe(&origin) && safe(&address.http_host) => Some(address),
                    _ => {
                        return Err(ConfigError::Invalid(
                            "REALTIME_WS_URL",
                            "a ws:// or wss:// URL, with REALTIME_HTTP_HOST a plain host".into(),
                        ));
                    }
                }
            }
            _ => None,
        };
        Ok(Self {
            publish_key_secret_id: get("REALTIME_PUBLISH_KEY_SECRET_ID"),
            webhook_secret_id: get("REALTIME_WEBHOOK_SECRET_ID"),
            publish_url: settings.url("REALTIME_PUBLISH_URL")?,
            connect_addr,
            entra,
            page,
        })
    }
}
