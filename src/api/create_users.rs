//! `POST /create_users`: the token issuer. Creates two ACS identities, each with a chat token,
//! in parallel: one round trip. Takes no input and no caller token; uses the admin key.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::{Answer, ApiError, AppState};
use crate::acs::identity::{Scope, UserWithToken};

pub async fn handle(state: &AppState) -> Result<Answer, ApiError> {
    let minutes = state.config.token_lifetime_minutes;
    let (user1, user2) = state
        .with_identity(|identity| async move {
            let (first, second) = tokio::join!(
                identity.create_user_with_token(&[Scope::Chat], Some(minutes)),
                identity.create_user_with_token(&[Scope::Chat], Some(minutes)),
            );
            match (first, second) {
                (Ok(a), Ok(b)) => Ok((a, b)),
                // Half a pair is no use to the caller: remove the identity that was made.
                (Ok(made), Err(error)) | (Err(error), Ok(made)) => {
                    if let Err(cleanup) = identity.delete_user(&made.user_id).await {
                        tracing::warn!(error = %cleanup, "could not delete the orphaned identity");
                    }
                    Err(error)
                }
                (Err(error), Err(_)) => Err(error),
            }
        })
        .await?;
    Ok(body(&user1, &user2).into())
}

fn body(user1: &UserWithToken, user2: &UserWithToken) -> Value {
    let expires_on = user1.token.expires_on.min(user2.token.expires_on);
    let expires_on = expires_on.replace_nanosecond(0).unwrap_or(expires_on);
    json!({
        "user1_id": user1.user_id,
        "user2_id": user2.user_id,
        "user1_token": user1.token.token.expose(),
        "user2_token": user2.token.token.expose(),
        "expires_on": expires_on.format(&Rfc3339).unwrap_or_default(),
    })
}
