//! Identities and their tokens: made, issued, revoked, deleted, and checked on every chat call.

use time::OffsetDateTime;

use super::{DEFAULT_TOKEN_MINUTES, Store};
use crate::failure::Failure;
use crate::tokens::{self, Claims};

/// An identity of the resource.
pub(super) struct Identity {
    /// Tokens with a serial at or below this were revoked.
    pub(super) revoked_through: u64,
}

impl Store {
    /// Creates an identity with an id shaped like ACS's.
    pub fn create_identity(&mut self) -> String {
        let id = format!("8:acs:{}_{}", self.resource_id, uuid::Uuid::new_v4());
        self.identities
            .insert(id.clone(), Identity { revoked_through: 0 });
        id
    }

    pub(super) fn known_identity(&self, id: &str) -> Result<(), Failure> {
        if self.identities.contains_key(id) {
            Ok(())
        } else {
            Err(Failure::IdentityNotFound)
        }
    }

    /// Issues a token for a known identity; returns it and its expiry.
    pub fn issue_token(
        &mut self,
        id: &str,
        scopes: &[String],
        minutes: Option<u32>,
    ) -> Result<(String, OffsetDateTime), Failure> {
        self.known_identity(id)?;
        let minutes = minutes.unwrap_or(DEFAULT_TOKEN_MINUTES);
        let expires_at = OffsetDateTime::now_utc() + time::Duration::minutes(i64::from(minutes));
        Ok((self.mint(id, scopes, expires_at)?, expires_at))
    }

    /// Signs a token for `id` expiring at `expires_at`, even in the past (for expiry tests).
    pub fn mint(
        &mut self,
        id: &str,
        scopes: &[String],
        expires_at: OffsetDateTime,
    ) -> Result<String, Failure> {
        let skypeid = id
            .strip_prefix("8:")
            .ok_or_else(|| Failure::BadRequest("not an ACS identity".into()))?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            skypeid: skypeid.to_owned(),
            scp: 1792,
            csi: now.to_string(),
            exp: expires_at.unix_timestamp(),
            acs_scope: scopes.join(","),
            resource_id: self.resource_id.clone(),
            iat: now,
            serial: self.next_serial,
        };
        self.next_serial += 1;
        Ok(tokens::encode(&self.token_key, &claims))
    }

    /// Refuses every token issued so far for `id`.
    pub fn revoke(&mut self, id: &str) -> Result<(), Failure> {
        let serial = self.next_serial;
        let identity = self
            .identities
            .get_mut(id)
            .ok_or(Failure::IdentityNotFound)?;
        identity.revoked_through = serial.saturating_sub(1);
        Ok(())
    }

    /// Deletes an identity; its tokens stop working.
    pub fn delete_identity(&mut self, id: &str) -> Result<(), Failure> {
        self.identities
            .remove(id)
            .map(drop)
            .ok_or(Failure::IdentityNotFound)
    }

    /// The caller a bearer token names, if the token is genuine, current, not revoked and
    /// grants chat.
    pub fn authenticate(&self, token: &str) -> Result<String, Failure> {
        let claims = tokens::decode(&self.token_key, token).ok_or(Failure::Unauthorized)?;
        if claims.exp <= OffsetDateTime::now_utc().unix_timestamp() {
            return Err(Failure::Unauthorized);
        }
        let user = claims.user_id();
        let identity = self.identities.get(&user).ok_or(Failure::Unauthorized)?;
        if claims.serial <= identity.revoked_through {
            return Err(Failure::Unauthorized);
        }
        if !claims.scopes().any(|s| s.starts_with("chat")) {
            return Err(Failure::Forbidden);
        }
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::store;
    use super::*;

    #[test]
    fn a_token_works_until_it_expires_or_is_revoked_and_a_later_one_works_after_revocation() {
        let mut store = store();
        let id = store.create_identity();
        let chat = ["chat".to_owned()];
        let (token, _) = store.issue_token(&id, &chat, Some(60)).unwrap();
        assert_eq!(store.authenticate(&token), Ok(id.clone()));
        let past = OffsetDateTime::now_utc() - time::Duration::minutes(1);
        let expired = store.mint(&id, &chat, past).unwrap();
        assert_eq!(store.authenticate(&expired), Err(Failure::Unauthorized));
        store.revoke(&id).unwrap();
        assert_eq!(store.authenticate(&token), Err(Failure::Unauthorized));
        let (later, _) = store.issue_token(&id, &chat, None).unwrap();
        assert_eq!(store.authenticate(&later), Ok(id.clone()));
        store.delete_identity(&id).unwrap();
        assert_eq!(store.authenticate(&later), Err(Failure::Unauthorized));
        assert_eq!(store.revoke(&id), Err(Failure::IdentityNotFound));
    }

    #[test]
    fn a_token_without_a_chat_scope_may_not_chat_and_a_forged_one_is_nobody_s() {
        let mut store = store();
        let id = store.create_identity();
        let (voip, _) = store.issue_token(&id, &["voip".into()], None).unwrap();
        assert_eq!(store.authenticate(&voip), Err(Failure::Forbidden));
        let (joined, _) = store
            .issue_token(&id, &["chat.join.limited".into()], None)
            .unwrap();
        assert_eq!(store.authenticate(&joined), Ok(id.clone()));
        assert_eq!(
            store.authenticate(&format!("{joined}x")),
            Err(Failure::Unauthorized)
        );
        assert_eq!(
            store.issue_token("8:acs:res_nobody", &["chat".into()], None),
            Err(Failure::IdentityNotFound)
        );
    }
}
