//! The Identity routes: HMAC-signed with the resource's access key.

use acs_core::auth;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::Shared;
use super::request::Call;
use crate::failure::Failure;
use crate::reply::{self, Reply};
use crate::route::Route;
use crate::store::{self, Store};
use crate::wire;

/// How far `x-ms-date` may be from the emulator's clock.
const MAX_SKEW: time::Duration = time::Duration::minutes(15);

const SCOPES: [&str; 5] = [
    "chat",
    "voip",
    "chat.join",
    "chat.join.limited",
    "voip.join",
];

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateIdentity {
    #[serde(default)]
    create_token_with_scopes: Vec<String>,
    #[serde(default)]
    expires_in_minutes: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssueToken {
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    expires_in_minutes: Option<u32>,
}

/// Serves an identity route, once the request's signature holds.
pub fn serve(shared: &Shared, call: &Call, route: Route<'_>) -> Result<Reply, Failure> {
    let mut store = shared.store();
    if let Err(message) = check_hmac(&store, call) {
        return Ok(reply::spec_error(
            StatusCode::UNAUTHORIZED,
            "Denied",
            message,
        ));
    }
    shared.admit(&route, "")?;
    match route {
        Route::CreateIdentity => create(&mut store, call),
        Route::DeleteIdentity { user_id } => {
            store.delete_identity(user_id)?;
            Ok(reply::empty(StatusCode::NO_CONTENT))
        }
        Route::IssueToken { user_id } => issue(&mut store, call, user_id),
        Route::RevokeTokens { user_id } => {
            store.revoke(user_id)?;
            Ok(reply::empty(StatusCode::NO_CONTENT))
        }
        _ => Err(Failure::NotFound),
    }
}

/// Rebuilds the signature from what was received (method, raw target, `Host`, body hash);
/// on mismatch, says why as ACS's `Denied` message would.
fn check_hmac(store: &Store, call: &Call) -> Result<(), &'static str> {
    let signature = call
        .header("authorization")
        .and_then(auth::parse_authorization)
        .ok_or("Denied by the resource provider.")?;
    let date = call.header("x-ms-date").unwrap_or_default();
    let signed_at = auth::parse_date(date).ok_or("Missing or invalid x-ms-date.")?;
    if (OffsetDateTime::now_utc() - signed_at).abs() > MAX_SKEW {
        return Err("The request x-ms-date is outside the allowed time window.");
    }
    let claimed_hash = call.header("x-ms-content-sha256").unwrap_or_default();
    if claimed_hash != auth::content_hash(&call.body) {
        return Err("Request 'x-ms-content-sha256' differs from generated content hash.");
    }
    let to_sign = auth::string_to_sign(
        call.method.as_str(),
        &call.path_and_query,
        date,
        &call.host,
        claimed_hash,
    );
    if auth::verify_signature(store.key(), &to_sign, signature) {
        Ok(())
    } else {
        Err("Denied by the resource provider.")
    }
}

fn check_token_request(scopes: &[String], minutes: Option<u32>) -> Result<(), Failure> {
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(Failure::Validation {
            message: format!("Scope '{bad}' is not valid."),
            target: "Scopes".into(),
        });
    }
    match minutes {
        Some(m) if !store::TOKEN_MINUTES.contains(&m) => Err(Failure::Validation {
            message: format!(
                "ExpiresInMinutes value {m} is invalid. Value must be within the [60, 1440] interval."
            ),
            target: "ExpiresInMinutes".into(),
        }),
        _ => Ok(()),
    }
}

fn access_token(token: String, expires_on: OffsetDateTime) -> serde_json::Value {
    json!({"token": token, "expiresOn": wire::rfc3339(expires_on)})
}

fn create(store: &mut Store, call: &Call) -> Result<Reply, Failure> {
    let request: CreateIdentity = if call.body_is_blank() {
        CreateIdentity::default()
    } else {
        call.json_body()?
    };
    check_token_request(
        &request.create_token_with_scopes,
        request.expires_in_minutes,
    )?;
    let id = store.create_identity();
    let mut body = json!({"identity": {"id": id}});
    if !request.create_token_with_scopes.is_empty() {
        let (token, expires_on) = store.issue_token(
            &id,
            &request.create_token_with_scopes,
            request.expires_in_minutes,
        )?;
        body["accessToken"] = access_token(token, expires_on);
    }
    Ok(reply::json(StatusCode::CREATED, &body))
}

fn issue(store: &mut Store, call: &Call, user_id: &str) -> Result<Reply, Failure> {
    let request: IssueToken = call.json_body()?;
    let scopes = request.scopes.ok_or_else(|| Failure::Validation {
        message: "Scopes: The Scopes field is required.".into(),
        target: "Scopes".into(),
    })?;
    check_token_request(&scopes, request.expires_in_minutes)?;
    let (token, expires_on) = store.issue_token(user_id, &scopes, request.expires_in_minutes)?;
    Ok(reply::json(
        StatusCode::OK,
        &access_token(token, expires_on),
    ))
}
