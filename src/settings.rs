//! How a setting is read, below every feature that reads one: the lookup a function's
//! environment is seen through, why a setting is refused, and the readers of numbers and URLs
//! they share. Each feature owns its settings and parses them with these
//! (`files::FilesSettings`, `push::PushSettings`, `realtime::RealtimeSettings`,
//! `aws::AwsSettings`); `config::Config` composes them. Nothing here knows a feature.

use std::ops::RangeInclusive;

use crate::acs::Url;

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} must be set")]
    Missing(&'static str),
    #[error("{0} is invalid: {1}")]
    Invalid(&'static str, String),
}

/// The environment as a feature reads it: each value trimmed, an empty one read as unset.
pub struct Lookup<'a>(&'a dyn Fn(&str) -> Option<String>);

impl<'a> Lookup<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self(lookup)
    }

    /// The setting `name`, if it is set to something.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// A whole number within `range`, or `default` when the setting is unset.
    pub fn bounded(
        &self,
        name: &'static str,
        range: RangeInclusive<u32>,
        default: u32,
    ) -> Result<u32, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        raw.parse()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                let (low, high) = range.into_inner();
                ConfigError::Invalid(name, format!("{raw:?} ({low}..={high})"))
            })
    }

    /// The URL the setting `name` holds, if set.
    pub fn url(&self, name: &'static str) -> Result<Option<Url>, ConfigError> {
        url(name, self.get(name))
    }
}

/// `raw`, the value of the setting `name`, as a URL.
pub fn url(name: &'static str, raw: Option<String>) -> Result<Option<Url>, ConfigError> {
    raw.map(|raw| Url::parse(&raw).map_err(|e| ConfigError::Invalid(name, e.to_string())))
        .transpose()
}

/// The scheme, host and port of `raw`, if it is a URL of one of `schemes`: what a page's
/// policy names.
pub fn origin_of(raw: &str, schemes: &[&str]) -> Option<String> {
    let url = Url::parse(raw).ok()?;
    schemes.contains(&url.scheme()).then_some(())?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_blank_setting_reads_as_unset_and_a_number_outside_its_range_is_refused() {
        let pairs = [("BLANK", "  "), ("N", " 7 "), ("BIG", "90")];
        let lookup = with(&pairs);
        let settings = Lookup::new(&lookup);
        assert_eq!(settings.get("BLANK"), None);
        assert_eq!(settings.bounded("N", 1..=10, 3), Ok(7));
        assert_eq!(settings.bounded("UNSET", 1..=10, 3), Ok(3));
        assert!(matches!(
            settings.bounded("BIG", 1..=10, 3),
            Err(ConfigError::Invalid("BIG", _))
        ));
    }

    #[test]
    fn an_origin_is_scheme_host_and_port_of_an_allowed_scheme() {
        assert_eq!(
            origin_of("wss://x.example:8443/event/realtime", &["ws", "wss"]).as_deref(),
            Some("wss://x.example:8443")
        );
        assert_eq!(origin_of("https://x.example/a", &["ws", "wss"]), None);
    }
}
