//! Reading requests: JSON bodies and query strings, with a precise 4xx for each mistake.

use std::collections::HashMap;

use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};

use super::errors::ApiError;
use crate::acs::ids;

/// Largest request body accepted; a message itself is held to ACS's 28 KB separately.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// ACS's limit on a message's content.
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;
/// Longest thread topic accepted.
pub const MAX_TOPIC_CHARS: usize = 256;

/// A request's JSON object body.
pub struct Body(Map<String, Value>);

impl Body {
    /// Parses the body; an empty body reads as `{}` so that a missing field is named.
    pub fn parse(request: &Request) -> Result<Self, ApiError> {
        let raw = request.body().as_ref();
        if raw.len() > MAX_BODY_BYTES {
            return Err(ApiError::TooLarge {
                what: "request body",
                limit: MAX_BODY_BYTES,
            });
        }
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice(raw) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            _ => Err(ApiError::InvalidJson),
        }
    }

    /// An optional string field; present but not a string is an error.
    pub fn optional(&self, field: &'static str) -> Result<Option<&str>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(ApiError::InvalidField {
                field,
                reason: "must be a string",
            }),
        }
    }

    /// A required, non-empty string field.
    pub fn required(&self, field: &'static str) -> Result<&str, ApiError> {
        match self.optional(field)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(ApiError::MissingField(field)),
        }
    }

    /// A required ACS user id.
    pub fn user_id(&self, field: &'static str) -> Result<&str, ApiError> {
        check_user_id(field, self.required(field)?)
    }

    /// A required ACS thread id.
    pub fn thread_id(&self, field: &'static str) -> Result<&str, ApiError> {
        check_thread_id(field, self.required(field)?)
    }
}

/// Checks an ACS user id's form.
pub fn check_user_id<'a>(field: &'static str, value: &'a str) -> Result<&'a str, ApiError> {
    if ids::is_user_id(value) {
        Ok(value)
    } else {
        Err(ApiError::InvalidField {
            field,
            reason: "is not an ACS user id (8:acs:...)",
        })
    }
}

/// Checks an ACS thread id's form.
pub fn check_thread_id<'a>(field: &'static str, value: &'a str) -> Result<&'a str, ApiError> {
    if ids::is_thread_id(value) {
        Ok(value)
    } else {
        Err(ApiError::InvalidField {
            field,
            reason: "is not an ACS thread id (19:...@thread.v2)",
        })
    }
}

/// A request's query string, refused if it names a parameter the endpoint does not know.
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(request: &Request, known: &[&str]) -> Result<Self, ApiError> {
        let params = request.query_string_parameters();
        let mut map = HashMap::new();
        for (name, value) in params.iter() {
            if !known.contains(&name) {
                return Err(ApiError::UnknownQueryParameter(
                    name.chars().take(64).collect(),
                ));
            }
            map.insert(name.to_owned(), value.to_owned());
        }
        Ok(Self(map))
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.optional(name).ok_or(ApiError::MissingField(name))
    }
}
