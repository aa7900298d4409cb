//! ACS Identity as the deployment's admin: the connection string's key, read from Secrets
//! Manager and fetched again, once, when ACS refuses it (the key was rotated). What a use case
//! that issues, mints or deletes identities is given, instead of the whole function's state.

use std::future::Future;

use crate::acs::{AcsError, AcsHttp, IdentityClient};
use crate::secrets::{SecretError, SecretStore};

/// Why an admin call failed: the secret unreadable, or ACS's answer to the call.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Acs(AcsError),
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
}

impl Admin {
    pub fn new(http: AcsHttp, secret: SecretStore) -> Self {
        Self { http, secret }
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
}
