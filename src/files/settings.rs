//! Where files go and what may go there: the files' settings, read at init.

use std::time::Duration;

use super::MAX_UPLOAD_BYTES;
use crate::settings::{ConfigError, Lookup};

/// Where files go and what may go there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesSettings {
    /// `FILES_BUCKET`: the S3 bucket of attachments.
    pub bucket: String,
    /// `FILES_MAX_BYTES`: the largest file (default 25 MiB, at most 100 MiB).
    pub max_bytes: u64,
    /// `FILES_TYPES`: the media types taken, comma-separated (default [`DEFAULT_FILE_TYPES`]).
    pub types: Vec<String>,
    /// `FILES_DAILY_UPLOADS` and `FILES_DAILY_BYTES`: what one person may sign for upload in a
    /// UTC day (default 200 files and 500 MiB).
    pub daily: UploadQuota,
    /// `FILES_URL_SECONDS`: how long a presigned upload or download lasts (1 to 300, default
    /// 300).
    pub url_lifetime: Duration,
}

/// The types a deployment takes when `FILES_TYPES` is unset: images a browser shows, PDFs and
/// plain text.
pub const DEFAULT_FILE_TYPES: &str =
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain";

/// What one person may sign for upload in a day: a staged object lives a day whether it is
/// sent or not, so without it one person could fill the bucket at the speed of their calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadQuota {
    pub files: u64,
    pub bytes: u64,
}

impl FilesSettings {
    /// Reads the bucket and its rules; `None` where `FILES_BUCKET` is unset.
    pub fn read(settings: &Lookup) -> Result<Option<Self>, ConfigError> {
        let get = |name| settings.get(name);
        let Some(bucket) = get("FILES_BUCKET") else {
            return Ok(None);
        };
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(ConfigError::Invalid(
                "FILES_BUCKET",
                "an S3 bucket name".into(),
            ));
        }
        let max_bytes = match get("FILES_MAX_BYTES") {
            None => 25 * 1024 * 1024,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=MAX_UPLOAD_BYTES).contains(n))
                .ok_or_else(|| {
                    ConfigError::Invalid("FILES_MAX_BYTES", format!("{raw:?} (1 to 104857600)"))
                })?,
        };
        let raw_types = get("FILES_TYPES").unwrap_or_else(|| DEFAULT_FILE_TYPES.into());
        let types: Vec<String> = raw_types
            .split(',')
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        let media_type = |t: &String| {
            t.split_once('/').is_some_and(|(kind, sub)| {
                let token = |s: &str| {
                    !s.is_empty()
                        && s.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
                };
                token(kind) && token(sub)
            })
        };
        if types.is_empty() || !types.iter().all(media_type) {
            return Err(ConfigError::Invalid(
                "FILES_TYPES",
                "a comma-separated list of media types".into(),
            ));
        }
        let seconds = settings.bounded("FILES_URL_SECONDS", 1..=300, 300)?;
        let count = |name: &'static str, default: u64| match get(name) {
            None => Ok(default),
            Some(raw) => raw.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ConfigError::Invalid(name, format!("{raw:?} (a whole number, 1 or more)"))
            }),
        };
        let daily = UploadQuota {
            files: count("FILES_DAILY_UPLOADS", 200)?,
            bytes: count("FILES_DAILY_BYTES", 500 * 1024 * 1024)?,
        };
        Ok(Some(Self {
            bucket,
            max_bytes,
            types,
            daily,
            url_lifetime: Duration::from_secs(seconds.into()),
        }))
    }
}
