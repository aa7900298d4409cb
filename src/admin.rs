//! What the deployment does with the ACS admin key: identity calls, the chat tokens it mints
//! and keeps for reuse, and the sessions signed with a key derived from it. The key is read
//! from Secrets Manager and fetched again, once, when ACS refuses it (it was rotated). What a
//! use case that issues, mints or deletes identities is given, instead of the whole
//! function's state.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use time::OffsetDateTime;

use crate::acs::identity::AccessToken;
use crate::acs::{AcsError, AcsHttp, BearerToken, IdentityClient, Scope, UserId};
use crate::secrets::{SecretError, SecretStore};
use crate::session::{Session, SessionError};

/// A minted token is reused until this much of its life is left.
const MINTED_TOKEN_MARGIN: time::Duration = time::Duration::minutes(10);

/// Why an admin call failed: the secret unreadable, ACS's answer to the call, or a session
/// that does not read.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Acs(AcsError),
    #[error(transparent)]
    Session(#[from] SessionError),
}

impl AdminError {
    /// Whether ACS said the identity the call was about does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Acs(AcsError::NotFound(_)))
    }
}

/// The admin's identity client, over the container's HTTP client.
#[derive(Debug)]
pub struct Admin {
    http: AcsHttp,
    secret: SecretStore,
    /// Chat tokens minted per user, reused while they have life left.
    minted: Mutex<HashMap<UserId, AccessToken>>,
}

impl Admin {
    pub fn new(http: AcsHttp, secret: SecretStore) -> Self {
        Self {
            http,
            secret,
            minted: Mutex::default(),
        }
    }

    /// The admin secret, for what else it holds (the session key, the service identity).
    pub fn secret(&self) -> &SecretStore {
        &self.secret
    }

    /// Runs `op` with an identity client holding the admin key. If ACS refuses the key, the
    /// secret may have been rotated: fetch it again, once, and retry.
    pub async fn with_identity<T, F, Fut>(&self, op: F) -> Result<T, AdminError>
    where
        F: Fn(IdentityClient) -> Fut,
        Fut: Future<Output = Result<T, AcsError>>,
    {
        let secret = self.secret.get().await?;
        match op(IdentityClient::new(self.http.clone(), &secret.connection)).await {
            Err(AcsError::Unauthorized(_)) => {
                tracing::warn!("ACS refused the admin key; fetching the secret again");
                let secret = self.secret.refresh().await?;
                op(IdentityClient::new(self.http.clone(), &secret.connection))
                    .await
                    .map_err(AdminError::Acs)
            }
            other => other.map_err(AdminError::Acs),
        }
    }

    fn minted(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, AccessToken>> {
        // Nothing panics while holding it, so a poisoned map is still consistent.
        self.minted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A chat token of `minutes` for `user_id`, minted once per container and reused while it
    /// has life left, so that a request costs no extra round trip. Never handed to anyone.
    pub async fn minted_chat_token(
        &self,
        user_id: &UserId,
        minutes: u32,
    ) -> Result<BearerToken, AdminError> {
        let fresh_enough = OffsetDateTime::now_utc() + MINTED_TOKEN_MARGIN;
        if let Some(token) = self.kept_token(user_id, fresh_enough) {
            return Ok(token);
        }
        let token = self
            .with_identity(|identity| async move {
                identity
                    .issue_token(user_id, &[Scope::Chat], Some(minutes))
                    .await
            })
            .await?;
        self.minted().insert(user_id.clone(), token.clone());
        Ok(token.token)
    }

    /// A token minted earlier for `user_id` that is still valid at `valid_at`.
    fn kept_token(&self, user_id: &UserId, valid_at: OffsetDateTime) -> Option<BearerToken> {
        self.minted()
            .get(user_id)
            .filter(|token| token.expires_on > valid_at)
            .map(|token| token.token.clone())
    }

    /// Reads `signed`, a session for `user_id` not ended at `now`, with the key derived from
    /// the admin key. A session signed after the key was regenerated is read again with the
    /// secret fetched anew, once.
    pub async fn verify_session(
        &self,
        signed: &str,
        user_id: &UserId,
        now: OffsetDateTime,
    ) -> Result<Session, AdminError> {
        let secret = self.secret.get().await?;
        match Session::verify(signed, secret.connection.access_key(), user_id, now) {
            Err(SessionError::Forged) => {
                let secret = self.secret.refresh().await?;
                Ok(Session::verify(
                    signed,
                    secret.connection.access_key(),
                    user_id,
                    now,
                )?)
            }
            other => Ok(other?),
        }
    }

    /// A new session of `hours` for `user_id` from `now`, signed with the key derived from the
    /// admin key.
    pub async fn start_session(
        &self,
        user_id: &UserId,
        now: OffsetDateTime,
        hours: u32,
    ) -> Result<(Session, String), AdminError> {
        let secret = self.secret.get().await?;
        let session = Session::start(user_id.clone(), now, hours);
        let signed = session.sign(secret.connection.access_key());
        Ok((session, signed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::RetryPolicy;

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.token-text-that-must-not-show.c2ln";

    fn admin() -> Admin {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .build();
        let secrets = aws_sdk_secretsmanager::Client::from_conf(config);
        let http = AcsHttp::trusting(RetryPolicy::default(), None, None).unwrap();
        Admin::new(http, SecretStore::admin(secrets, "acs-secret".into()))
    }

    #[tokio::test]
    async fn a_minted_token_is_reused_while_it_has_more_than_the_margin_left_and_never_shown() {
        let admin = admin();
        let user = UserId::parse("8:acs:res_alice").unwrap();
        let now = OffsetDateTime::now_utc();
        let minted = AccessToken {
            token: BearerToken::new(TOKEN),
            expires_on: now + time::Duration::hours(1),
        };
        admin.minted().insert(user.clone(), minted);
        let reused = admin.minted_chat_token(&user, 60).await.unwrap();
        assert_eq!(reused.expose(), TOKEN, "no call to ACS or Secrets Manager");
        assert!(!format!("{admin:?}").contains("token-text-that-must-not-show"));
        let bob = UserId::parse("8:acs:res_bob").unwrap();
        let ending = AccessToken {
            token: BearerToken::new(TOKEN),
            expires_on: now + MINTED_TOKEN_MARGIN / 2,
        };
        admin.minted().insert(bob.clone(), ending);
        assert!(
            admin.kept_token(&bob, now + MINTED_TOKEN_MARGIN).is_none(),
            "a token about to end is minted anew"
        );
    }
}
