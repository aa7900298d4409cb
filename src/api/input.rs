//! Reading requests: JSON bodies and query strings, with a precise 4xx for each mistake. Every
//! endpoint's `parse` is built from these, so it is pure and testable without ACS.

use std::collections::HashMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use lambda_http::{Request, RequestExt};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::caller::Who;
use super::errors::ApiError;
use crate::acs::{IdError, MessageId, PageCursor, ThreadId, UserId};
use crate::chat::send::{ClientKey, NotAKey};
use crate::chat::text::{DisplayName, MessageText, TextError, Topic};
use crate::chat::thread::{Metadata, MetadataUse, RETENTION_DAYS};
use crate::files::{AttachmentId, FileError, MAX_ATTACHMENTS};

/// Largest request body accepted; a message itself is held to ACS's 28 KB separately.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An opaque page cursor as the API hands it out: the base64url of ACS's own cursor.
pub fn encode_page(cursor: &PageCursor) -> String {
    URL_SAFE_NO_PAD.encode(cursor.as_str())
}

/// The request's `Idempotency-Key`, if it has one.
pub fn idempotency_key(request: &Request) -> Result<Option<ClientKey>, ApiError> {
    let Some(value) = request.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let refused = |reason| ApiError::InvalidField {
        field: "Idempotency-Key",
        reason,
    };
    let text = value
        .to_str()
        .map_err(|_| refused("must be visible ASCII"))?;
    ClientKey::parse(text)
        .map(Some)
        .map_err(|NotAKey| refused("must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"))
}

/// An id named by `field`, of the kind `T` (a `UserId`, `ThreadId` or `MessageId`).
pub fn id<T: FromStr<Err = IdError>>(field: &'static str, raw: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|IdError(form)| ApiError::InvalidId { field, form })
}

/// The thread a request acts on and the member it acts as: `thread_id` and `user_id`, in the
/// body of a POST or the query of a GET. The member must be the caller.
#[derive(Debug)]
pub struct InThread {
    pub thread_id: ThreadId,
    pub user_id: UserId,
}

impl InThread {
    pub fn from_body(body: &JsonBody) -> Result<Self, ApiError> {
        Ok(Self {
            thread_id: body.id("thread_id")?,
            user_id: body.id("user_id")?,
        })
    }

    pub fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(Self {
            thread_id: query.id("thread_id")?,
            user_id: query.id("user_id")?,
        })
    }

    /// The caller it names.
    pub fn who(&self) -> Who<'_> {
        Who::user_id(&self.user_id)
    }
}

/// A message of the caller's own in a thread: `thread_id`, `user_id` and `message_id`, for
/// what only a message's sender may do.
#[derive(Debug)]
pub struct OwnMessage {
    pub at: InThread,
    pub message_id: MessageId,
}

impl OwnMessage {
    pub fn from_body(body: &JsonBody) -> Result<Self, ApiError> {
        Ok(Self {
            at: InThread::from_body(body)?,
            message_id: body.id("message_id")?,
        })
    }
}

/// The caller's own identity, as the body's `user_id`: for what acts on the identity itself.
#[derive(Debug)]
pub struct OwnIdentity {
    pub user_id: UserId,
}

impl OwnIdentity {
    pub fn from_body(body: &JsonBody) -> Result<Self, ApiError> {
        Ok(Self {
            user_id: body.id("user_id")?,
        })
    }

    /// The caller it names, by their own token: never a minted one.
    pub fn who(&self) -> Who<'_> {
        Who::Bearer { id: &self.user_id }
    }
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

/// The largest sequence id taken: JavaScript's largest exact integer, so every client can
/// hold it.
pub const MAX_SEQUENCE_ID: u64 = (1 << 53) - 1;

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

    /// The required `message`: missing or only white space is a missing field.
    pub fn message(&self) -> Result<MessageText, ApiError> {
        self.required_text("message", MessageText::parse)
    }

    fn required_text<T>(
        &self,
        field: &'static str,
        parse: fn(&str) -> Result<T, TextError>,
    ) -> Result<T, ApiError> {
        parse(self.optional(field)?.unwrap_or_default()).map_err(|error| match error {
            TextError::Blank => ApiError::MissingField(field),
            error => ApiError::InvalidText { field, error },
        })
    }

    /// An optional `topic`.
    pub fn optional_topic(&self) -> Result<Option<Topic>, ApiError> {
        self.text("topic", Topic::parse)
    }

    /// A required positive whole number (a sequence id), as JSON gives it.
    pub fn positive(&self, field: &'static str) -> Result<u64, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Err(ApiError::MissingField(field)),
            Some(value) => value
                .as_u64()
                .filter(|n| (1..=MAX_SEQUENCE_ID).contains(n))
                .ok_or(ApiError::InvalidField {
                    field,
                    reason: "must be a whole number from 1 (a message's sequence_id)",
                }),
        }
    }

    /// A field's value as given, if given and not null.
    pub fn optional_value(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    /// A boolean field, `false` when absent; anything but a boolean is refused.
    pub fn flag(&self, field: &'static str) -> Result<bool, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(ApiError::InvalidField {
                field,
                reason: "must be true or false",
            }),
        }
    }

    /// The optional `display_name`.
    pub fn display_name(&self) -> Result<Option<DisplayName>, ApiError> {
        self.text("display_name", DisplayName::parse)
    }

    /// Optional thread `metadata`, for a new thread or a change to one.
    pub fn metadata(&self, usage: MetadataUse) -> Result<Option<Metadata>, ApiError> {
        match self.0.get("metadata") {
            None | Some(Value::Null) => Ok(None),
            Some(value) => {
                Metadata::parse(value, usage)
                    .map(Some)
                    .map_err(|reason| ApiError::InvalidField {
                        field: "metadata",
                        reason,
                    })
            }
        }
    }

    /// `retention_days`: absent is `None`, `null` is `Some(None)` (no policy), and a whole
    /// number of days in ACS's range is `Some(Some(days))`.
    pub fn retention_days(&self) -> Result<Option<Option<u32>>, ApiError> {
        match self.0.get("retention_days") {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(value) => value
                .as_u64()
                .and_then(|days| u32::try_from(days).ok())
                .filter(|days| RETENTION_DAYS.contains(days))
                .map(|days| Some(Some(days)))
                .ok_or(ApiError::InvalidField {
                    field: "retention_days",
                    reason: "must be a whole number of days from 30 to 90, or null for none",
                }),
        }
    }

    /// An optional text field read by `parse`; given but blank is refused, not absent.
    fn text<T>(
        &self,
        field: &'static str,
        parse: fn(&str) -> Result<T, TextError>,
    ) -> Result<Option<T>, ApiError> {
        self.optional(field)?
            .map(|raw| parse(raw).map_err(|error| ApiError::InvalidText { field, error }))
            .transpose()
    }

    /// `attachments`: a list of distinct attachment ids, at most
    /// [`MAX_ATTACHMENTS`](crate::files::MAX_ATTACHMENTS); absent is none.
    pub fn attachments(&self) -> Result<Vec<AttachmentId>, ApiError> {
        let refused = ApiError::Files(FileError::BadList);
        let items = match self.0.get("attachments") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) if items.len() <= MAX_ATTACHMENTS => items,
            Some(_) => return Err(refused),
        };
        let mut ids: Vec<AttachmentId> = Vec::with_capacity(items.len());
        for item in items {
            match item.as_str().and_then(AttachmentId::parse) {
                Some(id) if !ids.contains(&id) => ids.push(id),
                _ => return Err(refused),
            }
        }
        Ok(ids)
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

    /// A whole-number parameter, if given; `reason` says what it must be.
    pub fn number<T: FromStr>(
        &self,
        name: &'static str,
        reason: &'static str,
    ) -> Result<Option<T>, ApiError> {
        self.optional(name)
            .map(|raw| {
                raw.parse().map_err(|_| ApiError::InvalidField {
                    field: name,
                    reason,
                })
            })
            .transpose()
    }

    /// A whole-number parameter within `range`, `default` when absent.
    pub fn bounded(
        &self,
        name: &'static str,
        range: RangeInclusive<u32>,
        default: u32,
        reason: &'static str,
    ) -> Result<u32, ApiError> {
        match self.number(name, reason)? {
            None => Ok(default),
            Some(n) if range.contains(&n) => Ok(n),
            Some(_) => Err(ApiError::InvalidField {
                field: name,
                reason,
            }),
        }
    }

    /// The `page` parameter, decoded, refused unless it is a cursor of ours; `reason` names
    /// the endpoint that handed it out.
    pub fn page(&self, reason: &'static str) -> Result<Option<PageCursor>, ApiError> {
        self.optional("page")
            .map(|raw| {
                URL_SAFE_NO_PAD
                    .decode(raw)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .and_then(|text| PageCursor::parse(&text).ok())
                    .ok_or(ApiError::InvalidField {
                        field: "page",
                        reason,
                    })
            })
            .transpose()
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

    /// A POST in [`THREAD`] as [`USER`], with the fields of `extra` too.
    pub fn post_in_thread(extra: Value) -> Request {
        let mut body = serde_json::json!({"thread_id": THREAD, "user_id": USER});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        post(body)
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
