//! What a function is to its deployment: its name, routes and method, and what it needs built
//! at start (and so which settings and permissions the template gives it).

use crate::config::AuthMode;

/// The one method a function's routes take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// When a function reads the admin key (the connection string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminKey {
    Never,
    /// The token issuer, and those that act on an identity itself.
    Always,
    /// Only in trusted mode, to mint tokens for callers who bring none.
    WhenTrusted,
}

/// What a function builds at start, and so what its deployment gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Calls ACS Chat with callers' tokens (`ACS_ENDPOINT`).
    pub chat: bool,
    pub admin_key: AdminKey,
    /// Publishes to the real-time channel (the publish key).
    pub publishes: bool,
    /// Takes Event Grid's deliveries (the webhook secret).
    pub webhook: bool,
    /// Decides who may use the real-time channel (the publish key).
    pub authorizes: bool,
    /// Checks the identity provider's tokens (`IDP_ISSUER`, `IDP_AUDIENCE`), where its mode
    /// asks for them.
    pub identity_provider: bool,
    /// Reads or writes the people table (`PEOPLE_TABLE`).
    pub people: bool,
    /// Signs, reads or deletes files in the bucket (`FILES_BUCKET`).
    pub files: bool,
    /// Sends Web Push (the VAPID key, `PUSH_VAPID_SECRET_ID`).
    pub pushes: bool,
}

impl Needs {
    /// A chat endpoint: the caller's token, or a minted one in trusted mode.
    pub const CHAT: Self = Self {
        chat: true,
        admin_key: AdminKey::WhenTrusted,
        publishes: false,
        webhook: false,
        authorizes: false,
        identity_provider: false,
        people: false,
        files: false,
        pushes: false,
    };

    /// A chat endpoint that also acts on the caller's identity with the admin key.
    pub const ON_IDENTITY: Self = Self {
        admin_key: AdminKey::Always,
        ..Self::CHAT
    };

    /// The token issuer: the admin key, and the identity provider's tokens when issuing is
    /// for signed-in people only.
    pub const ISSUER: Self = Self {
        chat: false,
        identity_provider: true,
        ..Self::ON_IDENTITY
    };

    /// Signing in: the identity provider's tokens, the people table and the admin key.
    pub const SIGN_IN: Self = Self {
        people: true,
        ..Self::ISSUER
    };

    /// A chat endpoint that also keeps what the caller said about their threads in the people
    /// table (read positions, mutes).
    pub const CHAT_WITH_PEOPLE: Self = Self {
        people: true,
        ..Self::CHAT
    };

    /// [`CHAT_WITH_PEOPLE`](Self::CHAT_WITH_PEOPLE), whose change the person's other devices
    /// are told of on their real-time channel.
    pub const CHAT_WITH_PEOPLE_PUBLISHING: Self = Self {
        publishes: true,
        ..Self::CHAT_WITH_PEOPLE
    };

    /// A chat endpoint that also signs or removes files of the thread.
    pub const CHAT_WITH_FILES: Self = Self {
        files: true,
        ..Self::CHAT
    };

    /// A chat endpoint that also publishes to the real-time channel.
    pub const CHAT_PUBLISHING: Self = Self {
        publishes: true,
        ..Self::CHAT
    };

    /// Nothing: no ACS, no secret.
    pub const NOTHING: Self = Self {
        chat: false,
        admin_key: AdminKey::Never,
        publishes: false,
        webhook: false,
        authorizes: false,
        identity_provider: false,
        people: false,
        files: false,
        pushes: false,
    };

    /// Every part at once, for a test that drives every endpoint with one state.
    pub const EVERYTHING: Self = Self {
        chat: true,
        admin_key: AdminKey::Always,
        publishes: true,
        webhook: true,
        authorizes: true,
        identity_provider: true,
        people: true,
        files: true,
        pushes: true,
    };

    /// Whether it reads the admin key in `mode`.
    pub fn reads_admin_key(self, mode: AuthMode) -> bool {
        match self.admin_key {
            AdminKey::Never => false,
            AdminKey::Always => true,
            AdminKey::WhenTrusted => mode == AuthMode::Trusted,
        }
    }

    /// Whether it reads the real-time secret.
    pub fn realtime(self) -> bool {
        self.publishes || self.webhook || self.authorizes
    }
}

/// A function as the deployment knows it: its name (binary, route, `events/` folder and SAM
/// `Binary` are this one word), its routes and method, and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    /// Its paths on the HTTP API; none for the real-time API's authorizer.
    pub routes: &'static [&'static str],
    pub method: Method,
    pub needs: Needs,
}

/// The spec of an endpoint served at `/<name>`: `spec!("send_message", Post)` for a chat
/// endpoint, or with its needs when they are not [`Needs::CHAT`]'s.
macro_rules! spec {
    ($name:literal, $method:ident) => {
        spec!($name, $method, $crate::api::spec::Needs::CHAT)
    };
    ($name:literal, $method:ident, $needs:expr) => {
        $crate::api::spec::Spec {
            name: $name,
            routes: &[concat!("/", $name)],
            method: $crate::api::spec::Method::$method,
            needs: $needs,
        }
    };
}
pub(crate) use spec;
