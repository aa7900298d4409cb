//! Points in time as the API writes them: RFC 3339 in UTC, the one format of every `*_on` field.

use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The longest text a [`Timestamp`] writes: `2026-11-25T22:00:00.123456789Z`.
pub const MAX_LEN: usize = 30;

/// A point in time that serialises as RFC 3339 in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// A time RFC 3339 cannot write (a year before 0 or after 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the time {0} has no RFC 3339 form")]
pub struct Unwritable(OffsetDateTime);

impl Timestamp {
    pub fn new(at: OffsetDateTime) -> Self {
        Self(at.to_offset(time::UtcOffset::UTC))
    }

    pub fn now() -> Self {
        Self::new(OffsetDateTime::now_utc())
    }

    /// The same time without its fraction of a second, as ACS keeps expiry times.
    pub fn whole_seconds(self) -> Self {
        Self(self.0.replace_nanosecond(0).unwrap_or(self.0))
    }

    pub fn at(self) -> OffsetDateTime {
        self.0
    }

    /// Its RFC 3339 text.
    pub fn format(self) -> Result<String, Unwritable> {
        self.0.format(&Rfc3339).map_err(|_| Unwritable(self.0))
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(at: OffsetDateTime) -> Self {
        Self::new(at)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.format().map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn writes_utc_with_the_fraction_it_has_and_never_longer_than_max_len() {
        let at = Timestamp::new(datetime!(2026-11-25 23:00:00.5 +01:00));
        assert_eq!(at.format().unwrap(), "2026-11-25T22:00:00.5Z");
        assert_eq!(at.whole_seconds().format().unwrap(), "2026-11-25T22:00:00Z");
        let longest = Timestamp::new(datetime!(2026-11-25 22:00:00.123456789 UTC));
        assert_eq!(longest.format().unwrap().len(), MAX_LEN);
        assert_eq!(
            serde_json::to_string(&at).unwrap(),
            r#""2026-11-25T22:00:00.5Z""#
        );
    }
}
