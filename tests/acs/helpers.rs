use acs_chat_api::acs::Scope;
use acs_chat_api::acs::chat::{ChatParticipant, ThreadProperties};
use acs_chat_api::acs::{AcsHttp, BearerToken, ChatClient, IdentityClient, ThreadId, UserId};
use acs_emulator::{Config, Emulator, Route};

pub use support::fast_retry as fast_policy;

/// An emulator and the core's clients pointed at it, with retries short enough for tests.
pub struct TestAcs {
    pub emulator: Emulator,
    pub identity: IdentityClient,
    pub chat: ChatClient,
}

/// A user the emulator knows, with a chat token.
pub struct TestUser {
    pub id: UserId,
    pub token: BearerToken,
}

pub async fn spawn_acs() -> TestAcs {
    spawn_acs_with(Config::default()).await
}

/// [`spawn_acs`] with the emulator started as `config` says (over HTTPS, trusted, with `tls`).
pub async fn spawn_acs_with(config: Config) -> TestAcs {
    let emulator = Emulator::start(config).await.unwrap();
    let http = AcsHttp::trusting(fast_policy(), None, emulator.certificate_pem()).unwrap();
    let connection = emulator.connection_string();
    TestAcs {
        identity: IdentityClient::new(http.clone(), &connection),
        chat: ChatClient::new(http, connection.endpoint().clone()),
        emulator,
    }
}

impl TestAcs {
    pub async fn user(&self) -> TestUser {
        let created = self
            .identity
            .create_user_with_token(&[Scope::Chat], None)
            .await
            .unwrap();
        TestUser {
            id: created.user_id,
            token: created.token.token,
        }
    }

    /// A thread made by `creator` with `others` added.
    pub async fn thread(&self, creator: &TestUser, others: &[&TestUser]) -> ThreadId {
        let participants: Vec<ChatParticipant> = others
            .iter()
            .map(|u| ChatParticipant::user(&u.id, None))
            .collect();
        self.chat
            .create_thread(
                &creator.token,
                "test",
                &participants,
                &uuid::Uuid::new_v4().to_string(),
                &ThreadProperties::default(),
            )
            .await
            .unwrap()
            .id
    }

    pub fn count(&self, route: Route<'_>) -> u64 {
        self.emulator.faults().count(route)
    }
}
