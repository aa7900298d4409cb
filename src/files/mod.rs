//! Files and images beside ACS, which stores none for its users: the bytes go between the page
//! and S3 through presigned requests, never through a function, and a message holds only the
//! attachment's reference in its ACS metadata.
//!
//! - An upload is signed for one key under its thread (`threads/<thread>/<id>`), one type and
//!   one exact size, with the uploader and the name in its signed metadata, and tagged
//!   `state=staged`: the bucket's lifecycle removes staged objects after a day.
//! - Sending it checks that the object is there, under that thread, the sender's own, and not
//!   already another message's; it is then tagged `state=attached` with the send's idempotency
//!   key (so a retry of the same send may claim it again) before the message is sent. A send
//!   that fails after the tag leaves an object no lifecycle removes, never a message whose
//!   file is gone.
//! - Deleting a message deletes its objects; deleting a thread deletes its prefix.

pub mod attachment;
pub mod s3;
pub mod settings;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use self::attachment::{Attached, Attachment};
use self::s3::{Bucket, S3Error};
pub use self::settings::{FilesSettings, UploadQuota};
use crate::acs::http::{FAN_OUT, fan_out};
use crate::acs::{ThreadId, UserId};
use crate::timestamp::Timestamp;

/// Attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;
/// Characters of a file's name.
pub const MAX_NAME_CHARS: usize = 255;
/// The largest single upload S3 takes through one presigned PUT that we allow.
pub const MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;
/// Image types a browser may show from our bucket inline: never SVG or HTML, which can script.
pub const INLINE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The object metadata an upload carries, signed with it.
const UPLOADER: &str = "uploader";
const NAME: &str = "name";
const STATE: &str = "state";
const SEND_KEY: &str = "send";

/// Why a file request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("content_type {0:?} is not one this service takes")]
    TypeNotAllowed(String),
    #[error("size must be from 1 to {0} bytes")]
    BadSize(u64),
    #[error("name must be 1 to 255 characters, with no path separators or control characters")]
    BadName,
    #[error("attachments must be a list of at most 10 attachment ids")]
    BadList,
    #[error("attachment {0} was not uploaded to this thread")]
    NotFound(String),
    #[error("attachment {0} was uploaded by someone else")]
    NotYours(String),
    #[error("attachment {0} already belongs to another message")]
    InUse(String),
    #[error(transparent)]
    S3(#[from] S3Error),
}

/// An attachment's id: 32 lowercase hex digits, random. Read back from metadata only in that
/// form, as anyone in a thread can write a message's metadata straight to ACS.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AttachmentId(String);

impl TryFrom<String> for AttachmentId {
    type Error = &'static str;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw).ok_or("not an attachment id")
    }
}

impl From<AttachmentId> for String {
    fn from(id: AttachmentId) -> Self {
        id.0
    }
}

impl AttachmentId {
    fn random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// `None` unless `raw` is an id this service could have made.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A file's name as a person gave it, safe to show and to put in a download's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn parse(raw: &str) -> Result<Self, FileError> {
        let chars = raw.chars().count();
        let safe = (1..=MAX_NAME_CHARS).contains(&chars)
            && raw.trim() == raw
            && raw != "."
            && raw != ".."
            && !raw.chars().any(|c| c == '/' || c == '\\' || c.is_control());
        safe.then(|| Self(raw.to_owned())).ok_or(FileError::BadName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A signed upload: the page sends `PUT url` with exactly these headers and the file.
#[derive(Debug, Clone, Serialize)]
pub struct Upload {
    pub attachment_id: AttachmentId,
    pub method: &'static str,
    pub url: String,
    pub headers: std::collections::BTreeMap<&'static str, String>,
    pub expires_on: Timestamp,
}

/// A signed download.
#[derive(Debug, Clone, Serialize)]
pub struct Download {
    pub url: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Whether the browser may show it in the page (an allowed image type) or only save it.
    pub inline: bool,
    pub expires_on: Timestamp,
}

/// The bucket and the rules of what goes in it.
#[derive(Debug, Clone)]
pub struct Files {
    bucket: Bucket,
    max_bytes: u64,
    types: Vec<String>,
    /// How long a presigned upload may be started, or a download lasts.
    url_lifetime: Duration,
    daily: UploadQuota,
}

impl Files {
    pub fn new(
        http: reqwest::Client,
        settings: &FilesSettings,
        aws: &crate::aws::AwsSettings,
    ) -> Self {
        Self {
            bucket: Bucket::new(http, &settings.bucket, aws),
            max_bytes: settings.max_bytes,
            types: settings.types.clone(),
            url_lifetime: settings.url_lifetime,
            daily: settings.daily,
        }
    }

    /// What one person may sign for upload in a day.
    pub fn daily(&self) -> UploadQuota {
        self.daily
    }

    /// The bucket's origin, for the page's policy.
    pub fn origin(&self) -> &str {
        self.bucket.origin()
    }

    fn key(thread: &ThreadId, id: &AttachmentId) -> String {
        format!("{}{}", Self::prefix(thread), id.as_str())
    }

    fn prefix(thread: &ThreadId) -> String {
        format!("threads/{}/", thread.as_str())
    }

    /// Checks what is declared of a file before anything is signed for it.
    pub fn check(&self, name: &str, content_type: &str, size: u64) -> Result<FileName, FileError> {
        let name = FileName::parse(name)?;
        if !self.types.iter().any(|allowed| allowed == content_type) {
            return Err(FileError::TypeNotAllowed(content_type.to_owned()));
        }
        if size == 0 || size > self.max_bytes {
            return Err(FileError::BadSize(self.max_bytes));
        }
        Ok(name)
    }

    /// A presigned upload of one file of exactly `size` bytes of `content_type` to a new key
    /// under `thread`, by `uploader`. The caller has checked membership and [`check`]ed it.
    ///
    /// [`check`]: Self::check
    pub fn upload(
        &self,
        thread: &ThreadId,
        uploader: &UserId,
        name: &FileName,
        content_type: &str,
        size: u64,
    ) -> Result<Upload, FileError> {
        let id = AttachmentId::random();
        let size = size.to_string();
        let name = encode_name(name.as_str());
        let tagging = format!("{STATE}=staged");
        let headers = [
            ("content-length", size.as_str()),
            ("content-type", content_type),
            ("x-amz-meta-name", name.as_str()),
            ("x-amz-meta-uploader", uploader.as_str()),
            ("x-amz-tagging", tagging.as_str()),
        ];
        let url = self.bucket.presign(
            "PUT",
            &Self::key(thread, &id),
            &headers,
            &[],
            self.url_lifetime,
        )?;
        Ok(Upload {
            attachment_id: id,
            method: "PUT",
            url,
            // The browser sets the length itself; it is signed all the same.
            headers: headers
                .iter()
                .filter(|(name, _)| *name != "content-length")
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect(),
            expires_on: expires(self.url_lifetime),
        })
    }

    /// A presigned download of an attachment of `thread`; `None` when there is none of that
    /// id. The caller has checked membership.
    pub async fn download(
        &self,
        thread: &ThreadId,
        id: &AttachmentId,
    ) -> Result<Option<Download>, FileError> {
        let key = Self::key(thread, id);
        let Some(head) = self.bucket.head(&key).await? else {
            return Ok(None);
        };
        let name = head.metadata(NAME).map(decode_name).unwrap_or_default();
        let inline = INLINE_TYPES.contains(&head.content_type.as_str())
            && self.types.contains(&head.content_type);
        let disposition = format!(
            "{}; filename*=UTF-8''{}",
            if inline { "inline" } else { "attachment" },
            encode_name(&name)
        );
        // What the stored object says of its type is never what it is served as, but one of
        // ours: a download is never an HTML page of our bucket's origin.
        let served_as = if inline {
            head.content_type.as_str()
        } else {
            "application/octet-stream"
        };
        let url = self.bucket.presign(
            "GET",
            &key,
            &[],
            &[
                ("response-content-disposition", disposition.as_str()),
                ("response-content-type", served_as),
            ],
            self.url_lifetime,
        )?;
        Ok(Some(Download {
            url,
            name,
            content_type: head.content_type,
            size: head.size,
            inline,
            expires_on: expires(self.url_lifetime),
        }))
    }

    /// Claims each upload for one send by `sender` in `thread` (see the module's notes) and
    /// answers what the message will show of them, in the order given.
    pub async fn claim(
        &self,
        thread: &ThreadId,
        sender: &UserId,
        ids: &[AttachmentId],
        send_key: &str,
    ) -> Result<Vec<Attachment>, FileError> {
        let keys: Vec<String> = ids.iter().map(|id| Self::key(thread, id)).collect();
        let found = fan_out(FAN_OUT, keys.clone(), |key| async move {
            let (head, tags) = tokio::join!(self.bucket.head(&key), self.bucket.tags(&key));
            Ok::<_, FileError>((head?, tags?))
        })
        .await;
        let mut attachments = Vec::with_capacity(ids.len());
        for (id, result) in ids.iter().zip(found) {
            let (head, tags) = result?;
            let (Some(head), Some(tags)) = (head, tags) else {
                return Err(FileError::NotFound(id.0.clone()));
            };
            if head.metadata(UPLOADER) != Some(sender.as_str()) {
                return Err(FileError::NotYours(id.0.clone()));
            }
            let tag = |name: &str| {
                tags.iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.as_str())
            };
            let free = tag(STATE) == Some("staged")
                || (tag(STATE) == Some("attached") && tag(SEND_KEY) == Some(send_key));
            if !free {
                return Err(FileError::InUse(id.0.clone()));
            }
            attachments.push(Attachment {
                id: id.clone(),
                name: head.metadata(NAME).map(decode_name).unwrap_or_default(),
                content_type: head.content_type,
                size: head.size,
            });
        }
        let tagged = fan_out(FAN_OUT, keys, |key| async move {
            let tags = [(STATE, "attached"), (SEND_KEY, send_key)];
            self.bucket.set_tags(&key, &tags).await
        })
        .await;
        for result in tagged {
            result?;
        }
        Ok(attachments)
    }

    /// Deletes the objects of a deleted message of `sender`'s under `thread`: only those that
    /// `sender` uploaded, since anyone in the thread can write a message whose metadata names
    /// another person's upload.
    pub async fn delete(
        &self,
        thread: &ThreadId,
        sender: &str,
        ids: &[AttachmentId],
    ) -> Result<usize, FileError> {
        let keys: Vec<String> = ids.iter().map(|id| Self::key(thread, id)).collect();
        let deleted = fan_out(FAN_OUT, keys, |key| async move {
            match self.bucket.head(&key).await? {
                Some(head) if head.metadata(UPLOADER) == Some(sender) => {
                    self.bucket.delete(&key).await?;
                    Ok::<_, S3Error>(1)
                }
                _ => Ok(0),
            }
        })
        .await;
        Ok(deleted
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .sum())
    }

    /// Deletes every object under `thread`, attached or not.
    pub async fn delete_thread(&self, thread: &ThreadId) -> Result<usize, FileError> {
        let keys = self.bucket.list(&Self::prefix(thread)).await?;
        let count = keys.len();
        let deleted = fan_out(FAN_OUT, keys, |key| async move {
            self.bucket.delete(&key).await
        })
        .await;
        deleted.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(count)
    }
}

fn expires(lifetime: Duration) -> Timestamp {
    Timestamp::from(time::OffsetDateTime::now_utc() + lifetime)
}

/// A name as an HTTP header value may carry it (RFC 5987's percent-encoded UTF-8).
fn encode_name(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn decode_name(encoded: &str) -> String {
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_a_path_separator_or_a_control_character_is_refused() {
        for bad in [
            "",
            "a/b",
            "..\\x",
            "a\u{0}b",
            "line\nbreak",
            ".",
            "..",
            " padded",
            &"x".repeat(256),
        ] {
            assert!(FileName::parse(bad).is_err(), "{bad:?}");
        }
        for good in [
            "photo.png",
            "Résumé 2026.pdf",
            "日本語.txt",
            &"x".repeat(255),
        ] {
            assert_eq!(FileName::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn an_attachment_id_is_32_lowercase_hex_digits() {
        let id = AttachmentId::random();
        assert_eq!(AttachmentId::parse(id.as_str()), Some(id));
        for bad in [
            "",
            "../x",
            &"A".repeat(32),
            &"a".repeat(31),
            &"a".repeat(33),
        ] {
            assert_eq!(AttachmentId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_survive_the_trip_through_object_metadata() {
        for name in ["Résumé 2026.pdf", "a%20b", "日本語.txt"] {
            let encoded = encode_name(name);
            assert!(encoded.is_ascii());
            assert_eq!(decode_name(&encoded), name);
        }
    }
}
