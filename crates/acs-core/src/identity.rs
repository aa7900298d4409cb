//! The ACS Identity API: identities and their access tokens, signed with the admin key.

use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth;
use super::connection_string::{AccessKey, ConnectionString};
use super::error::AcsError;
use super::http::{
    AcsHttp, Idempotency, decode_json as decode, encode_json as json, versioned_url,
};
use super::ids::{UserId, encode_segment};
use super::scope::Scope;
use super::token::BearerToken;

/// The Identity API version this client speaks.
pub const API_VERSION: &str = "2023-10-01";

/// A user access token and when it expires.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    /// The bearer token; it formats as REDACTED.
    pub token: BearerToken,
    /// Expiry as ACS wrote it (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_on: OffsetDateTime,
}

/// A new identity with its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWithToken {
    pub user_id: UserId,
    /// Its first token.
    pub token: AccessToken,
}

#[derive(Deserialize)]
struct Identity {
    id: UserId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateResponse {
    identity: Identity,
    access_token: Option<AccessToken>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest<'a> {
    create_token_with_scopes: &'a [Scope],
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_minutes: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssueRequest<'a> {
    scopes: &'a [Scope],
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_minutes: Option<u32>,
}

/// Client for the Identity API, holding the admin key. Cheap to clone.
#[derive(Debug, Clone)]
pub struct IdentityClient {
    http: AcsHttp,
    endpoint: Url,
    key: AccessKey,
}

impl IdentityClient {
    /// A client for the resource the connection string names.
    pub fn new(http: AcsHttp, connection: &ConnectionString) -> Self {
        Self {
            http,
            endpoint: connection.endpoint().clone(),
            key: connection.access_key().clone(),
        }
    }

    fn url(&self, path: &str) -> Result<Url, AcsError> {
        versioned_url(&self.endpoint, path, API_VERSION)
    }

    fn identity_url(&self, user_id: &UserId, action: &str) -> Result<Url, AcsError> {
        self.url(&format!(
            "identities/{}{action}",
            encode_segment(user_id.as_str())
        ))
    }

    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Vec<u8>,
        idempotency: Idempotency,
    ) -> Result<Vec<u8>, AcsError> {
        self.http
            .send(idempotency, || {
                // Signed per attempt: each retry carries a fresh x-ms-date.
                let signed = auth::sign(
                    &self.key,
                    method.as_str(),
                    &url,
                    &body,
                    OffsetDateTime::now_utc(),
                )?;
                let mut request = self
                    .http
                    .client()
                    .request(method.clone(), url.clone())
                    .header("x-ms-date", signed.date)
                    .header("x-ms-content-sha256", signed.content_sha256)
                    .header("authorization", signed.authorization)
                    .header("x-ms-return-client-request-id", "true");
                if !body.is_empty() {
                    request = request
                        .header("content-type", "application/json")
                        .body(body.clone());
                }
                Ok(request)
            })
            .await
    }

    /// Creates an identity and a token for it in one round trip (`createTokenWithScopes`).
    /// `expires_in_minutes` must be within ACS's 60..=1440; `None` takes its default (24 h).
    pub async fn create_user_with_token(
        &self,
        scopes: &[Scope],
        expires_in_minutes: Option<u32>,
    ) -> Result<UserWithToken, AcsError> {
        let body = json(&CreateRequest {
            create_token_with_scopes: scopes,
            expires_in_minutes,
        })?;
        // Unsafe: the 2023-10-01 API has no repeatability header, so a retry could create two.
        let response: CreateResponse = decode(
            &self
                .call(
                    Method::POST,
                    self.url("identities")?,
                    body,
                    Idempotency::Unsafe,
                )
                .await?,
        )?;
        let token = response
            .access_token
            .ok_or_else(|| AcsError::InvalidResponse("no accessToken in the answer".into()))?;
        Ok(UserWithToken {
            user_id: response.identity.id,
            token,
        })
    }

    /// Creates an identity with no token.
    pub async fn create_user(&self) -> Result<UserId, AcsError> {
        let body = self
            .call(
                Method::POST,
                self.url("identities")?,
                Vec::new(),
                Idempotency::Unsafe,
            )
            .await?;
        Ok(decode::<CreateResponse>(&body)?.identity.id)
    }

    /// Issues a new token for an existing identity.
    pub async fn issue_token(
        &self,
        user_id: &UserId,
        scopes: &[Scope],
        expires_in_minutes: Option<u32>,
    ) -> Result<AccessToken, AcsError> {
        let url = self.identity_url(user_id, "/:issueAccessToken")?;
        let body = json(&IssueRequest {
            scopes,
            expires_in_minutes,
        })?;
        decode(
            &self
                .call(Method::POST, url, body, Idempotency::Safe)
                .await?,
        )
    }

    /// Revokes every token of an identity.
    pub async fn revoke_tokens(&self, user_id: &UserId) -> Result<(), AcsError> {
        let url = self.identity_url(user_id, "/:revokeAccessTokens")?;
        self.call(Method::POST, url, Vec::new(), Idempotency::Safe)
            .await
            .map(drop)
    }

    /// Deletes an identity, its tokens and its data.
    pub async fn delete_user(&self, user_id: &UserId) -> Result<(), AcsError> {
        let url = self.identity_url(user_id, "")?;
        self.call(Method::DELETE, url, Vec::new(), Idempotency::Safe)
            .await
            .map(drop)
    }
}
