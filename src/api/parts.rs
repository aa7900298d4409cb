//! What an endpoint is handed: the parts its `Parts` type names, each taken from what the
//! container built at start. Each part says what it needs built ([`Needs`]), so a function's
//! needs are its parts' and its caller's, spelled nowhere else; and a part its deployment lacks
//! fails the cold start (`endpoint::start`) instead of a request.
//!
//! A part that is a reference must be there; an `Option` of one is a feature the deployment may
//! leave out (the files' bucket, the people table for read positions, Web Push, the real-time
//! channel), which the endpoint answers without.

use super::spec::{AdminKey, Needs};
use super::state::AppState;
use time::OffsetDateTime;

use crate::acs::identity::AccessToken;
use crate::acs::{ChatClient, Scope, UserId};
use crate::admin::Admin;
use crate::chat::typing::TypingThrottle;
use crate::config::{Config, ConfigError};
use crate::files::Files;
use crate::people::People;
use crate::push::sender::Pusher;
use crate::realtime::Realtime;
use crate::seal::{ClientTokens, Sealer};
use crate::secrets::SecretError;

/// What an endpoint acts with, taken from the container's state.
pub trait Parts<'a>: Sized + Send {
    /// What must be built at start for it.
    const NEEDS: Needs;

    /// Takes it from `state`; `Missing` names the setting without which it was not built.
    fn take(state: &'a AppState) -> Result<Self, ConfigError>;
}

/// A part held by reference, built where `$needs` says so or refused with `$setting`.
macro_rules! required {
    ($part:ty, $field:ident, $setting:literal, $needs:expr) => {
        impl<'a> Parts<'a> for &'a $part {
            const NEEDS: Needs = $needs;

            fn take(state: &'a AppState) -> Result<Self, ConfigError> {
                state.$field.as_ref().ok_or(ConfigError::Missing($setting))
            }
        }

        impl<'a> Parts<'a> for Option<&'a $part> {
            const NEEDS: Needs = $needs;

            fn take(state: &'a AppState) -> Result<Self, ConfigError> {
                Ok(state.$field.as_ref())
            }
        }
    };
}

required!(
    ChatClient,
    chat,
    "ACS_ENDPOINT",
    Needs {
        chat: true,
        ..Needs::NOTHING
    }
);
required!(
    Admin,
    admin,
    "ACS_SECRET_ID",
    Needs {
        admin_key: AdminKey::Always,
        ..Needs::NOTHING
    }
);
required!(
    People,
    people,
    "PEOPLE_TABLE",
    Needs {
        people: true,
        ..Needs::NOTHING
    }
);
required!(
    Files,
    files,
    "FILES_BUCKET",
    Needs {
        files: true,
        ..Needs::NOTHING
    }
);
required!(
    Pusher,
    pusher,
    "PUSH_VAPID_SECRET_ID",
    Needs {
        pushes: true,
        ..Needs::NOTHING
    }
);
required!(
    Realtime,
    realtime,
    "REALTIME_PUBLISH_KEY_SECRET_ID",
    Needs {
        publishes: true,
        ..Needs::NOTHING
    }
);

/// The admin key where trusted mode has the function mint tokens, and so hold it.
pub struct Trusted<'a>(pub Option<&'a Admin>);

impl<'a> Parts<'a> for Trusted<'a> {
    const NEEDS: Needs = Needs {
        admin_key: AdminKey::WhenTrusted,
        ..Needs::NOTHING
    };

    fn take(state: &'a AppState) -> Result<Self, ConfigError> {
        Ok(Self(state.admin.as_ref()))
    }
}

/// What clients are handed for an ACS token: a seal in sealed mode (the keys must be there),
/// else the token itself.
#[derive(Clone, Copy)]
pub struct Sealing<'a>(pub Option<&'a Sealer>);

impl<'a> Parts<'a> for Sealing<'a> {
    const NEEDS: Needs = Needs {
        seals: true,
        ..Needs::NOTHING
    };

    fn take(state: &'a AppState) -> Result<Self, ConfigError> {
        match (state.config.seal.client_tokens, &state.sealer) {
            (ClientTokens::Sealed, None) => Err(ConfigError::Missing("SEAL_SECRET_ID")),
            (_, sealer) => Ok(Self(sealer.as_ref())),
        }
    }
}

impl Sealing<'_> {
    /// What the client is handed for `token`, just issued for `user_id` with `scopes`, in the
    /// session `session_id` (a new one when `None`) ending at `session_ends`: its seal, or in
    /// `acs` mode the token.
    pub async fn hand_out(
        &self,
        token: &AccessToken,
        user_id: &UserId,
        scopes: &[Scope],
        session_id: Option<String>,
        session_ends: OffsetDateTime,
    ) -> Result<String, SecretError> {
        match self.0 {
            Some(sealer) => {
                sealer
                    .seal(token, user_id, scopes, session_id, session_ends)
                    .await
            }
            None => Ok(token.token.expose().to_owned()),
        }
    }
}

/// The deployment's settings (token lifetimes, modes, addresses).
impl<'a> Parts<'a> for &'a Config {
    const NEEDS: Needs = Needs::NOTHING;

    fn take(state: &'a AppState) -> Result<Self, ConfigError> {
        Ok(&state.config)
    }
}

/// When this container last forwarded a typing notification.
impl<'a> Parts<'a> for &'a TypingThrottle {
    const NEEDS: Needs = Needs::NOTHING;

    fn take(state: &'a AppState) -> Result<Self, ConfigError> {
        Ok(&state.typing)
    }
}

impl Parts<'_> for () {
    const NEEDS: Needs = Needs::NOTHING;

    fn take(_: &AppState) -> Result<Self, ConfigError> {
        Ok(())
    }
}

macro_rules! tuples {
    ($(($($part:ident),+))*) => {$(
        impl<'a, $($part: Parts<'a>),+> Parts<'a> for ($($part,)+) {
            const NEEDS: Needs = Needs::NOTHING$(.and($part::NEEDS))+;

            fn take(state: &'a AppState) -> Result<Self, ConfigError> {
                Ok(($($part::take(state)?,)+))
            }
        }
    )*};
}

tuples! {
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::endpoint::start;
    use crate::api::state::InitError;

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    #[test]
    fn a_tuple_of_parts_needs_what_each_of_them_needs() {
        type ChatAndPeople<'a> = (&'a ChatClient, Option<&'a People>, &'a Config);
        let needs = <ChatAndPeople<'static> as Parts<'static>>::NEEDS;
        assert_eq!(
            needs,
            Needs {
                chat: true,
                people: true,
                ..Needs::NOTHING
            }
        );
    }

    #[test]
    fn a_required_part_the_deployment_lacks_is_named_and_an_optional_one_is_none() {
        let state = AppState::init(
            Needs {
                chat: true,
                people: true,
                ..Needs::NOTHING
            },
            config(&[("ACS_ENDPOINT", "https://x.communication.azure.com")]),
        )
        .unwrap();
        assert!(matches!(
            <&People>::take(&state),
            Err(ConfigError::Missing("PEOPLE_TABLE"))
        ));
        assert!(matches!(<Option<&People> as Parts>::take(&state), Ok(None)));
        assert!(<(&ChatClient, Option<&People>)>::take(&state).is_ok());
    }

    #[test]
    fn a_function_whose_part_has_no_setting_does_not_start() {
        let without_table = || {
            config(&[
                ("ACS_ENDPOINT", "https://x.communication.azure.com"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "not-a-secret"),
                ("SEAL_SECRET_ID", "seal-keys"),
            ])
        };
        // mark_read keeps read positions in the people table and cannot do without it;
        // get_messages falls back to ACS's read receipts.
        let refused = start::<crate::api::endpoints::MarkRead>(without_table());
        assert!(
            matches!(
                refused,
                Err(InitError::Config(ConfigError::Missing("PEOPLE_TABLE")))
            ),
            "{refused:?}"
        );
        let started = start::<crate::api::endpoints::GetMessages>(without_table());
        assert!(started.is_ok(), "{started:?}");
    }

    #[test]
    fn a_function_that_takes_client_tokens_does_not_start_sealed_without_the_sealing_keys() {
        let environment = |mode| {
            config(&[
                ("ACS_ENDPOINT", "https://x.communication.azure.com"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "not-a-secret"),
                ("CLIENT_TOKENS", mode),
            ])
        };
        let sealed = start::<crate::api::endpoints::SendMessage>(environment("sealed"));
        assert!(
            matches!(
                sealed,
                Err(InitError::Config(ConfigError::Missing("SEAL_SECRET_ID")))
            ),
            "{sealed:?}"
        );
        let acs = start::<crate::api::endpoints::SendMessage>(environment("acs"));
        assert!(acs.is_ok(), "{acs:?}");
        // The page takes no client token, and so needs no key in either mode.
        assert!(start::<crate::api::endpoints::Page>(environment("sealed")).is_ok());
    }
}
