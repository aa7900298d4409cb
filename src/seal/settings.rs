//! What a deployment hands its clients, and where the sealing key is.

use crate::settings::{ConfigError, Lookup};

/// What the `token` of `sign_in`, `create_users` and `refresh_token` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientTokens {
    /// A seal of ours over the ACS token, which never leaves the functions; the default.
    Sealed,
    /// The ACS token itself, for apps on the ACS SDKs: every rule of this API can then be
    /// bypassed straight at ACS (docs/security.md lists how).
    Acs,
}

/// `CLIENT_TOKENS` and `SEAL_SECRET_ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSettings {
    /// `CLIENT_TOKENS`: `sealed` (default) or `acs`.
    pub client_tokens: ClientTokens,
    /// `SEAL_SECRET_ID`: the Secrets Manager secret holding the sealing keys.
    pub secret_id: Option<String>,
}

impl SealSettings {
    pub fn read(settings: &Lookup) -> Result<Self, ConfigError> {
        let client_tokens = match settings.get("CLIENT_TOKENS").as_deref() {
            // The safe value is the default: no client holds a token ACS accepts.
            None | Some("sealed") => ClientTokens::Sealed,
            Some("acs") => ClientTokens::Acs,
            Some(other) => {
                return Err(ConfigError::Invalid(
                    "CLIENT_TOKENS",
                    format!("{other:?} (expected sealed or acs)"),
                ));
            }
        };
        Ok(Self {
            client_tokens,
            secret_id: settings.get("SEAL_SECRET_ID"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<SealSettings, ConfigError> {
        let lookup = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        SealSettings::read(&Lookup::new(&lookup))
    }

    #[test]
    fn clients_get_seals_unless_the_deployment_says_acs() {
        assert_eq!(read(&[]).unwrap().client_tokens, ClientTokens::Sealed);
        let acs = read(&[("CLIENT_TOKENS", "acs"), ("SEAL_SECRET_ID", "s")]).unwrap();
        assert_eq!(
            (acs.client_tokens, acs.secret_id.as_deref()),
            (ClientTokens::Acs, Some("s"))
        );
        assert!(matches!(
            read(&[("CLIENT_TOKENS", "raw")]),
            Err(ConfigError::Invalid("CLIENT_TOKENS", _))
        ));
    }
}
