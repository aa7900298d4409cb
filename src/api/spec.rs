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

impl AdminKey {
    /// The more often read of the two.
    const fn or(self, other: Self) -> Self {
        match (self, other) {
            (Self::Always, _) | (_, Self::Always) => Self::Always,
            (Self::WhenTrusted, _) | (_, Self::WhenTrusted) => Self::WhenTrusted,
            (Self::Never, Self::Never) => Self::Never,
        }
    }
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
    /// Opens or makes the seals clients hold (the sealing keys, `SEAL_SECRET_ID`), where
    /// `CLIENT_TOKENS` is `sealed`.
    pub seals: bool,
}

impl Needs {
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
        seals: false,
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
        seals: true,
    };

    /// What `self` and `other` need together.
    pub const fn and(self, other: Self) -> Self {
        Self {
            chat: self.chat || other.chat,
            admin_key: self.admin_key.or(other.admin_key),
            publishes: self.publishes || other.publishes,
            webhook: self.webhook || other.webhook,
            authorizes: self.authorizes || other.authorizes,
            identity_provider: self.identity_provider || other.identity_provider,
            people: self.people || other.people,
            files: self.files || other.files,
            pushes: self.pushes || other.pushes,
            seals: self.seals || other.seals,
        }
    }

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
