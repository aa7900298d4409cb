//! Entra ID bearer tokens on Event Grid deliveries, an option on top of the webhook secret:
//! with `REALTIME_ENTRA_TENANT_ID` and `REALTIME_ENTRA_AUDIENCE` set, every delivery must carry
//! a token signed by one of the tenant's keys, issued by that tenant (either of Entra's issuer
//! forms), for that audience, and current. The checking is [`crate::jwt`]'s.

use super::settings::EntraSettings;
use crate::jwt::{self, JwtError, KeySet, Rules};

/// The check as a webhook runs it: the tenant's keys fetched and kept.
#[derive(Debug)]
pub struct Entra {
    rules: Rules,
    keys: KeySet,
}

impl Entra {
    /// The check `settings` describe, fetching keys through the container's client.
    pub fn new(settings: EntraSettings, http: reqwest::Client) -> Self {
        let tenant = &settings.tenant;
        Self {
            rules: Rules {
                issuers: vec![
                    format!("https://login.microsoftonline.com/{tenant}/v2.0"),
                    format!("https://sts.windows.net/{tenant}/"),
                ],
                audience: settings.audience.clone(),
                uses: &[],
            },
            keys: KeySet::new(settings.keys_url, http),
        }
    }

    /// Checks a delivery's `Authorization` header.
    pub async fn check(&self, authorization: Option<&str>) -> Result<(), JwtError> {
        self.keys
            .verify(jwt::bearer(authorization)?, &self.rules)
            .await
            .map(drop)
    }
}
