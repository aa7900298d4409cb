//! Sealed sessions: in `CLIENT_TOKENS=sealed` mode the token a client holds is ours, an AEAD
//! seal over the person's ACS token, so that no client ever holds a credential ACS accepts and
//! every rule of this API holds (docs/security.md).
//!
//! A seal is `seal1.<expiry>.<base64url(key id ‖ nonce ‖ ciphertext ‖ tag)>`: AES-256-GCM
//! under a key derived from the sealing secret (Secrets Manager), the clear part (its version
//! and when the ACS token inside expires, for clients to refresh by) and the key id bound in as
//! associated data, and inside, as compact JSON, the ACS token, whose user and scopes it is,
//! when the session ends, the session's id and the deployment it is for (its ACS endpoint). Opening one is a key lookup and one decryption: microseconds, no round trip once
//! the container holds the keys.
//!
//! - `keys`: the format, the keys and what a seal holds.
//! - `settings`: `CLIENT_TOKENS` and `SEAL_SECRET_ID`.

mod keys;
mod settings;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

pub use keys::{PREFIX, SealError, SealKeys, Sealed, new_session_id, parse_keys};
pub use settings::{ClientTokens, SealSettings};

use crate::acs::identity::AccessToken;
use crate::acs::{BearerToken, Scope, UserId};
use crate::secrets::{SecretError, SecretStore};

/// How often a container may fetch the keys again for a seal of a key it does not know: the
/// first such seal after a rotation has a warm container fetch the new keys at once, and a
/// stream of forged key ids costs Secrets Manager one call a minute at most.
const REFETCH_AFTER: Duration = Duration::from_secs(60);

/// Why a seal could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Refused(#[from] SealError),
    #[error(transparent)]
    Keys(#[from] SecretError),
}

/// Seals and opens with the deployment's keys, for the deployment it is (`audience`).
#[derive(Debug)]
pub struct Sealer {
    keys: SecretStore<SealKeys>,
    audience: String,
    /// When the keys were last fetched again for an unknown key id.
    refetched: Mutex<Option<Instant>>,
}

impl Sealer {
    /// Keys read from `keys`, for seals of the deployment on the ACS resource `audience`.
    pub fn new(keys: SecretStore<SealKeys>, audience: String) -> Self {
        Self {
            keys,
            audience,
            refetched: Mutex::new(None),
        }
    }

    /// A seal of `token`, just issued for `user_id` with `scopes`, in the session `session_id`
    /// (a new one when `None`) that ends at `session_ends`.
    pub async fn seal(
        &self,
        token: &AccessToken,
        user_id: &UserId,
        scopes: &[Scope],
        session_id: Option<String>,
        session_ends: OffsetDateTime,
    ) -> Result<String, SecretError> {
        let keys = self.keys.get().await?;
        Ok(keys.seal(&Sealed {
            audience: self.audience.clone(),
            token: token.token.clone(),
            user_id: user_id.clone(),
            scopes: scopes.to_vec(),
            token_expires: token.expires_on.unix_timestamp(),
            session_id: session_id.unwrap_or_else(new_session_id),
            session_ends: session_ends.unix_timestamp(),
        }))
    }

    /// What `seal` holds, if this deployment made it and its ACS token is still valid at
    /// `now`. A key id it does not know has the keys fetched again, once a minute at most.
    pub async fn open(&self, seal: &str, now: OffsetDateTime) -> Result<Sealed, OpenError> {
        let keys = self.keys.get().await?;
        match keys.open(seal, &self.audience, now) {
            Err(SealError::UnknownKey) if self.may_refetch() => {
                let keys = self.keys.refresh().await?;
                Ok(keys.open(seal, &self.audience, now)?)
            }
            opened => Ok(opened?),
        }
    }

    /// Whether the keys may be fetched again now, and if so, notes that they are.
    fn may_refetch(&self) -> bool {
        let mut refetched = self.refetched.lock().unwrap_or_else(|e| e.into_inner());
        let may = refetched.is_none_or(|at| at.elapsed() >= REFETCH_AFTER);
        if may {
            *refetched = Some(Instant::now());
        }
        may
    }
}

/// A client's token, opened: who it names, the ACS token that acts for them, and, for a seal,
/// its session.
#[derive(Debug)]
pub struct ClientToken {
    pub user_id: UserId,
    pub token: BearerToken,
    pub session_id: Option<String>,
}

/// Opens what a client presents as its token, before any ACS call: where clients hold seals
/// (`sealer` given) a seal of this deployment, an ACS token refused as not ours; else the ACS
/// token itself, read unverified (ACS verifies it when it acts) and turned away once expired.
pub async fn open_client_token(
    sealer: Option<&Sealer>,
    presented: &str,
    now: OffsetDateTime,
) -> Result<ClientToken, OpenError> {
    if let Some(sealer) = sealer {
        let sealed = sealer.open(presented, now).await?;
        return Ok(ClientToken {
            user_id: sealed.user_id,
            token: sealed.token,
            session_id: Some(sealed.session_id),
        });
    }
    let token = BearerToken::new(presented);
    let claims = token.claims().map_err(|_| SealError::Malformed)?;
    if claims.is_expired(now) {
        return Err(SealError::Expired.into());
    }
    Ok(ClientToken {
        user_id: claims.user_id,
        token,
        session_id: None,
    })
}
