//! Reading requests: JSON bodies and query strings, with a precise 4xx for each mistake. Every
//! endpoint's `parse` is built from these, so it is pure and testable without ACS.

use std::collections::HashMap;
use std::str::FromStr;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use lambda_http::{Request, RequestExt};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::errors::ApiError;
use crate::acs::IdError;

/// Largest request body accepted; a message itself is held to ACS's 28 KB separately.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// ACS's limit on a message's content.
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;
/// Longest thread topic accepted.
pub const MAX_TOPIC_CHARS: usize = 256;

/// Longest display name accepted.
pub const MAX_DISPLAY_NAME_CHARS: usize = 256;

/// The required `message` text: not only white space, and within ACS's 28 KB.
pub fn message_text(body: &JsonBody) -> Result<String, ApiError> {
    let message = body.required("message")?;
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::TooLarge {
            what: "message",
            limit: MAX_MESSAGE_BYTES,
        });
    }
    Ok(message.to_owned())
}

/// A thread topic: trimmed, 1 to 256 characters.
pub fn topic(raw: &str) -> Result<String, ApiError> {
    let topic = raw.trim();
    if topic.is_empty() || topic.chars().count() > MAX_TOPIC_CHARS {
        return Err(ApiError::InvalidField {
            field: "topic",
            reason: "must be 1 to 256 characters",
        });
    }
    Ok(topic.to_owned())
}

/// The optional `display_name`: trimmed, 1 to 256 characters when given.
pub fn display_name(body: &JsonBody) -> Result<Option<String>, ApiError> {
    let Some(raw) = body.optional("display_name")? else {
        return Ok(None);
    };
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(ApiError::InvalidField {
            field: "display_name",
            reason: "must be 1 to 256 characters",
        });
    }
    Ok(Some(name.to_owned()))
}

/// An opaque page cursor as the API hands it out: the base64url of ACS's own cursor.
pub fn encode_page(cursor: &str) -> String {
    URL_SAFE_NO_PAD.encode(cursor)
}

/// The `page` query parameter, decoded; `what` names the endpoint that handed it out.
pub fn page_cursor(query: &Query, reason: &'static str) -> Result<Option<String>, ApiError> {
    query
        .optional("page")
        .map(|raw| {
            URL_SAFE_NO_PAD
                .decode(raw)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or(ApiError::InvalidField {
                    field: "page",
                    reason,
                })
        })
        .transpose()
}

/// A whole-number query parameter within `range`, `default` when absent.
pub fn bounded_number(
    query: &Query,
    name: &'static str,
    range: std::ops::RangeInclusive<u32>,
    default: u32,
    reason: &'static str,
) -> Result<u32, ApiError> {
    match query.optional(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or(ApiError::InvalidField {
                field: name,
                reason,
            }),
    }
}

/// An id named by `field`, of the kind `T` (a `UserId`, `ThreadId` or `MessageId`).
pub fn id<T: FromStr<Err = IdError>>(field: &'static str, raw: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|IdError(form)| ApiError::InvalidId { field, form })
}

/// A request's JSON object body.
pub struct JsonBody(Map<String, Value>);

/// A JSON object whose keys are each given once: with a key twice, which one counts would
/// depend on the parser, so such a body is refused rather than guessed at.
struct UniqueKeys(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = UniqueKeys;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueKeys, A::Error> {
                let mut map = Map::new();
                while let Some((key, value)) = access.next_entry::<String, Value>()? {
                    if map.insert(key, value).is_some() {
                        return Err(serde::de::Error::custom("a key is given twice"));
                    }
                }
                Ok(UniqueKeys(map))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

impl JsonBody {
    /// Parses the body; an empty body reads as `{}` so that a missing field is named. A POST
    /// takes its input in the body only, so a query string is refused too.
    pub fn parse(request: &Request) -> Result<Self, ApiError> {
        Query::parse(request, &[])?;
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
        serde_json::from_slice(raw)
            .map(|UniqueKeys(map)| Self(map))
            .map_err(|_| ApiError::InvalidJson)
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

    /// A required id field.
    pub fn id<T: FromStr<Err = IdError>>(&self, field: &'static str) -> Result<T, ApiError> {
        id(field, self.required(field)?)
    }

    /// An optional id field.
    pub fn optional_id<T: FromStr<Err = IdError>>(
        &self,
        field: &'static str,
    ) -> Result<Option<T>, ApiError> {
        self.optional(field)?.map(|raw| id(field, raw)).transpose()
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

    /// A parameter given with a non-empty value.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.optional(name).ok_or(ApiError::MissingField(name))
    }

    /// A required id parameter.
    pub fn id<T: FromStr<Err = IdError>>(&self, name: &'static str) -> Result<T, ApiError> {
        id(name, self.required(name)?)
    }
}

#[cfg(test)]
mod tests {
    use lambda_http::RequestExt;

    use super::test_requests::{code, raw_post};
    use super::*;

    #[test]
    fn a_body_is_one_json_object_with_each_key_once() {
        assert!(JsonBody::parse(&raw_post(r#"{"a":"1","b":{"a":2}}"#)).is_ok());
        assert!(
            JsonBody::parse(&raw_post(" \n")).is_ok(),
            "blank reads as {{}}"
        );
        for raw in [
            r#"{"a":"1","a":"2"}"#,
            r#"{"a":"1"} trailing"#,
            r#"{"a":"\ud800"}"#,
            "[]",
            "\"text\"",
            "null",
            r#"{"a":"1""#,
        ] {
            assert_eq!(
                code(JsonBody::parse(&raw_post(raw))),
                "400 invalid_json",
                "{raw}"
            );
        }
    }

    #[test]
    fn a_post_takes_no_query_string() {
        let request = raw_post("{}").with_query_string_parameters(
            [("thread_id".to_owned(), "x".to_owned())]
                .into_iter()
                .collect::<HashMap<_, _>>(),
        );
        assert_eq!(
            code(JsonBody::parse(&request)),
            "400 unknown_query_parameter"
        );
    }
}

/// Builders of requests as API Gateway hands them over, for the endpoints' `parse` tests.
#[cfg(test)]
pub(crate) mod test_requests {
    use lambda_http::{Body, Request, RequestExt};
    use serde_json::Value;

    /// A POST with this raw body.
    pub fn raw_post(body: &str) -> Request {
        lambda_http::http::Request::builder()
            .method("POST")
            .body(Body::Text(body.to_owned()))
            .unwrap()
    }

    /// A POST with this JSON body.
    pub fn post(body: Value) -> Request {
        raw_post(&body.to_string())
    }

    /// A GET with these query parameters.
    pub fn get(query: &[(&str, &str)]) -> Request {
        let params: std::collections::HashMap<String, String> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        lambda_http::http::Request::builder()
            .method("GET")
            .body(Body::Empty)
            .unwrap()
            .with_query_string_parameters(params)
    }

    /// A user id and a thread id of the right forms.
    pub const USER: &str = "8:acs:res_alice";
    pub const OTHER_USER: &str = "8:acs:res_bob";
    pub const THREAD: &str = "19:abc@thread.v2";

    /// The error code a refused parse answers with.
    pub fn code<T>(parsed: Result<T, super::ApiError>) -> String {
        match parsed {
            Ok(_) => "accepted".to_owned(),
            Err(error) => {
                let response = error.into_response();
                let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
                format!(
                    "{} {}",
                    response.status().as_u16(),
                    body["error"]["code"].as_str().unwrap()
                )
            }
        }
    }
}
