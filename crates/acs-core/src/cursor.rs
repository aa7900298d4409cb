//! Where a listing goes on: what ACS's `nextLink` says, kept as a cursor a client can hand
//! back.
//!
//! A client holds the cursor between requests, so it must be able to carry only what ACS
//! pages by: the page size and API version are ours to set on every request (a cursor that
//! asked for 200 threads a page would turn one inbox request into hundreds of ACS calls), and
//! any other name is refused rather than passed on.

use std::fmt;

/// The query names ACS continues a listing with. `skip` is what the participant and receipt
/// lists use; `syncState` and `startTime` are what recorded message lists carry.
const CONTINUATION: [&str; 4] = ["syncState", "startTime", "skip", "continuationToken"];

/// The query names of a `nextLink` that are ours to set again, not part of the continuation.
const OURS: [&str; 2] = ["maxPageSize", "api-version"];

/// A listing's continuation: a URL query of continuation names only, each at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor(String);

/// A cursor that carries something other than ACS's continuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor this service gave out")]
pub struct NotACursor;

impl PageCursor {
    /// A cursor as a client handed it back: refused unless every pair names a continuation,
    /// each name once, with a value.
    pub fn parse(query: &str) -> Result<Self, NotACursor> {
        let mut seen = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if !CONTINUATION.contains(&name.as_ref()) || seen.contains(&name) || value.is_empty() {
                return Err(NotACursor);
            }
            seen.push(name);
        }
        if seen.is_empty() {
            return Err(NotACursor);
        }
        Ok(Self(query.to_owned()))
    }

    /// The cursor in the query of a `nextLink`, without the names that are ours to set; `None`
    /// when nothing of a continuation is left.
    pub(crate) fn from_next_link_query(query: &str) -> Option<Self> {
        let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .filter(|(name, _)| !OURS.contains(&name.as_ref()))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        let text = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&kept)
            .finish();
        Self::parse(&text).ok()
    }

    /// Its pairs, to be added to a listing's URL.
    pub(crate) fn pairs(&self) -> form_urlencoded::Parse<'_> {
        form_urlencoded::parse(self.0.as_bytes())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_carries_only_acs_s_continuation_names_each_once() {
        for ok in [
            "skip=20",
            "syncState=3e47&startTime=0",
            "continuationToken=a%2Bb",
        ] {
            assert!(PageCursor::parse(ok).is_ok(), "{ok}");
        }
        for crafted in [
            "",
            "maxPageSize=200",
            "skip=20&maxPageSize=200",
            "api-version=2020-01-01",
            "skip=1&skip=2",
            "top=500",
            "skip",
        ] {
            assert_eq!(PageCursor::parse(crafted), Err(NotACursor), "{crafted:?}");
        }
    }

    #[test]
    fn a_next_link_s_cursor_leaves_out_the_page_size_and_version() {
        let cursor =
            PageCursor::from_next_link_query("syncState=ab&maxPageSize=5&api-version=2024-03-07")
                .unwrap();
        assert_eq!(cursor.as_str(), "syncState=ab");
        assert_eq!(
            PageCursor::from_next_link_query("maxPageSize=5&api-version=v"),
            None
        );
    }
}
