//! Signing a person in: the use case behind `sign_in`, which knows no HTTP.
//!
//! Whoever the identity provider vouches for (its issuer and their subject) has one ACS
//! identity for life and gets a fresh token for it on every sign-in. A known person: a token
//! for their identity, the last-seen time written beside it. A new person: an identity with its
//! token in one ACS call, then the claim, a conditional write that only the first of several
//! simultaneous first sign-ins wins; the others delete the identity they made and take the
//! winner's. A known person whose identity ACS no longer has gets a new one the same way,
//! claimed in place of the vanished one: nobody is locked out for good.

use time::OffsetDateTime;

use super::{Claim, People, PeopleError, Person};
use crate::acs::identity::AccessToken;
use crate::acs::{Scope, UserId};
use crate::admin::{Admin, AdminError};

/// Why a sign-in could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    People(#[from] PeopleError),
    #[error(transparent)]
    Admin(#[from] AdminError),
}

/// Who is signing in, as the identity provider vouched, and the name they asked to be shown by.
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub display_name: Option<&'a str>,
}

/// A person signed in: their identity, a fresh token, and whether this sign-in made them.
#[derive(Debug)]
pub struct SignedIn {
    pub user_id: UserId,
    pub token: AccessToken,
    pub display_name: Option<String>,
    pub created: bool,
}

/// Signs `who` in with a token of `minutes`.
pub async fn sign_in(
    people: &People,
    admin: &Admin,
    who: Signing<'_>,
    minutes: u32,
    now: OffsetDateTime,
) -> Result<SignedIn, SignInError> {
    let known = people.find(who.issuer, who.subject).await?;
    if let Some(person) = &known {
        let user_id = &person.user_id;
        let (token, seen) = tokio::join!(
            issue(admin, user_id, minutes),
            people.seen(who.issuer, who.subject, who.display_name, now),
        );
        if let Err(error) = seen {
            // The token is good without it; the time is only a record.
            tracing::warn!(%error, "could not record the sign-in time");
        }
        match token {
            Ok(token) => {
                // Signing in with a name is asking to be shown by it now.
                let shown = who.display_name.or(person.display_name.as_deref());
                return Ok(signed_in(user_id, token, shown, false));
            }
            Err(error) if error.is_not_found() => {
                tracing::warn!("a person's identity is gone from ACS: making them a new one");
            }
            Err(error) => return Err(error.into()),
        }
    }
    first_sign_in(people, admin, who, known, minutes, now).await
}

/// A person's first sign-in, or their first since ACS lost the identity `known` holds.
async fn first_sign_in(
    people: &People,
    admin: &Admin,
    who: Signing<'_>,
    known: Option<Person>,
    minutes: u32,
    now: OffsetDateTime,
) -> Result<SignedIn, SignInError> {
    let made = admin
        .with_identity(|identity| async move {
            identity
                .create_user_with_token(&[Scope::Chat], Some(minutes))
                .await
        })
        .await?;
    let person = new_person(made.user_id.clone(), who.display_name, known.as_ref(), now);
    let claimed = match &known {
        Some(vanished) => {
            let vanished = &vanished.user_id;
            people
                .rebind(who.issuer, who.subject, vanished, &person)
                .await
        }
        None => people.claim(who.issuer, who.subject, &person).await,
    };
    if claimed != Ok(Claim::Won) {
        // Someone else's sign-in won, or nobody's did: ours is nobody's identity.
        let orphan = &made.user_id;
        if let Err(error) = admin
            .with_identity(|identity| async move { identity.delete_user(orphan).await })
            .await
        {
            tracing::warn!(%error, "could not delete the identity a lost claim made");
        }
    }
    match claimed? {
        Claim::Won => Ok(signed_in(
            &person.user_id,
            made.token,
            person.display_name.as_deref(),
            true,
        )),
        Claim::Lost => {
            let winner = people
                .find(who.issuer, who.subject)
                .await?
                .ok_or(PeopleError::Corrupt("the claim's winner"))?;
            let token = issue(admin, &winner.user_id, minutes).await?;
            // The winner's name is the one the table kept.
            let shown = winner.display_name.as_deref().or(who.display_name);
            Ok(signed_in(&winner.user_id, token, shown, false))
        }
    }
}

async fn issue(admin: &Admin, user_id: &UserId, minutes: u32) -> Result<AccessToken, AdminError> {
    admin
        .with_identity(|identity| async move {
            identity
                .issue_token(user_id, &[Scope::Chat], Some(minutes))
                .await
        })
        .await
}

/// The person a first sign-in makes: the new identity, the name given (else the one kept),
/// and the first sign-in of the person they were, if ACS lost their identity.
fn new_person(
    user_id: UserId,
    given: Option<&str>,
    known: Option<&Person>,
    now: OffsetDateTime,
) -> Person {
    Person {
        user_id,
        display_name: given
            .map(str::to_owned)
            .or_else(|| known.and_then(|p| p.display_name.clone())),
        first_seen: known.map_or(now, |p| p.first_seen),
    }
}

fn signed_in(user_id: &UserId, token: AccessToken, shown: Option<&str>, created: bool) -> SignedIn {
    SignedIn {
        user_id: user_id.clone(),
        token,
        display_name: shown.map(str::to_owned),
        created,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: Option<&str>, first_seen: OffsetDateTime) -> Person {
        Person {
            user_id: UserId::parse("8:acs:r_old").unwrap(),
            display_name: name.map(str::to_owned),
            first_seen,
        }
    }

    #[test]
    fn a_person_made_again_keeps_their_first_sign_in_and_name_unless_given_another() {
        let then = OffsetDateTime::UNIX_EPOCH;
        let now = then + time::Duration::days(30);
        let new = UserId::parse("8:acs:r_new").unwrap();
        let vanished = person(Some("Alice"), then);
        let again = new_person(new.clone(), None, Some(&vanished), now);
        assert_eq!(again.first_seen, then);
        assert_eq!(again.display_name.as_deref(), Some("Alice"));
        let renamed = new_person(new.clone(), Some("Al"), Some(&vanished), now);
        assert_eq!(renamed.display_name.as_deref(), Some("Al"));
        let first = new_person(new, None, None, now);
        assert_eq!((first.first_seen, first.display_name), (now, None));
    }
}
