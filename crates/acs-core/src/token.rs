//! Reading an ACS user access token without verifying it.
//!
//! Only ACS can verify its tokens, and it does on every chat call. We read the identity and the
//! expiry to route the call and to turn away an expired or mismatched token before a round trip;
//! nothing is granted on the strength of this parse alone.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use time::OffsetDateTime;

use super::ids::UserId;
use super::scope::Scope;

/// An ACS user access token. `Debug` and `Display` print a redacted form, so no log line, error
/// or formatted state can show it; [`BearerToken::expose`] is the one way to its text, for the
/// wire and for handing it to its owner.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct BearerToken(String);

impl BearerToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token's text. Secret: only for an `Authorization` header or its owner's answer.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the token says about itself, unverified (see the module doc).
    pub fn claims(&self) -> Result<TokenClaims, TokenError> {
        read_claims(&self.0)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(REDACTED)")
    }
}

impl fmt::Display for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("REDACTED")
    }
}

/// Why a token could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token is not a JWT")]
    NotAJwt,
    #[error("token payload is not readable")]
    UnreadablePayload,
    #[error("token names no ACS user identity")]
    NoIdentity,
}

/// What a token says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The identity's raw id, `8:acs:...`.
    pub user_id: UserId,
    /// When ACS stops accepting it.
    pub expires_at: OffsetDateTime,
    /// What it may be used for (`acsScope`, comma-separated); `None` when it names a scope ACS
    /// does not know, so that nothing reissues what it cannot read.
    pub scopes: Option<Vec<Scope>>,
}

impl TokenClaims {
    /// True once the token has expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    skypeid: Option<String>,
    exp: Option<i64>,
    #[serde(default)]
    acs_scope: String,
}

/// Reads the identity (`skypeid` with the `8:` prefix restored) and `exp` from a token.
pub fn read_claims(token: &str) -> Result<TokenClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::NotAJwt);
    };
    // Accept both alphabets and stray padding: some issuers emit standard base64.
    let normalised: String = payload
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    let bytes = URL_SAFE_NO_PAD
        .decode(normalised)
        .map_err(|_| TokenError::UnreadablePayload)?;
    let payload: Payload =
        serde_json::from_slice(&bytes).map_err(|_| TokenError::UnreadablePayload)?;
    let user_id = payload
        .skypeid
        .and_then(|id| UserId::parse(format!("8:{id}")).ok())
        .ok_or(TokenError::NoIdentity)?;
    let exp = payload.exp.ok_or(TokenError::UnreadablePayload)?;
    let expires_at =
        OffsetDateTime::from_unix_timestamp(exp).map_err(|_| TokenError::UnreadablePayload)?;
    let scopes = payload
        .acs_scope
        .split(',')
        .map(|name| Scope::parse(name.trim()))
        .collect();
    Ok(TokenClaims {
        user_id,
        expires_at,
        scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn reads_identity_and_expiry_from_an_acs_shaped_token() {
        // Claims as in the azure-cli-extensions test token that mirrors a real one.
        let token = jwt(
            r#"{"skypeid":"acs:res_0001","scp":1792,"csi":"1657788332","exp":1657874732,"acsScope":"chat","resourceId":"res","iat":1657788332}"#,
        );
        let claims = read_claims(&token).unwrap();
        assert_eq!(claims.user_id, *"8:acs:res_0001");
        assert_eq!(claims.scopes, Some(vec![Scope::Chat]));
        assert_eq!(claims.expires_at.unix_timestamp(), 1657874732);
        assert!(claims.is_expired(OffsetDateTime::now_utc()));
        assert!(!claims.is_expired(OffsetDateTime::from_unix_timestamp(1657874731).unwrap()));
    }

    #[test]
    fn accepts_a_payload_in_the_standard_alphabet_with_padding() {
        let payload = STANDARD.encode(r#"{"skypeid":"acs:a_b","exp":1,"pad":"???>>>"}"#);
        assert!(payload.contains('+') && payload.contains('/') && payload.ends_with('='));
        let token = format!("h.{payload}.s");
        assert_eq!(read_claims(&token).unwrap().user_id, *"8:acs:a_b");
    }

    #[test]
    fn refuses_tokens_it_cannot_read() {
        let cases = [
            ("abc", TokenError::NotAJwt),
            ("a.b", TokenError::NotAJwt),
            ("a.b.c.d", TokenError::NotAJwt),
            ("a.!!!.c", TokenError::UnreadablePayload),
            (&jwt("not json"), TokenError::UnreadablePayload),
            (&jwt(r#"{"exp":1}"#), TokenError::NoIdentity),
            (
                &jwt(r#"{"skypeid":"orgid:x","exp":1}"#),
                TokenError::NoIdentity,
            ),
            (
                &jwt(r#"{"skypeid":"acs:x"}"#),
                TokenError::UnreadablePayload,
            ),
        ];
        for (token, expected) in cases {
            assert_eq!(read_claims(token), Err(expected), "{token}");
        }
    }

    #[test]
    fn a_bearer_token_never_shows_in_debug_or_display() {
        let token = BearerToken::new("eyJ.secret-token-text.sig");
        for shown in [
            format!("{token:?}"),
            format!("{token}"),
            format!("{:?}", Some(&token)),
        ] {
            assert!(!shown.contains("secret-token-text"), "{shown}");
        }
        assert_eq!(token.expose(), "eyJ.secret-token-text.sig");
    }
}
