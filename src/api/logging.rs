//! Log lines as Lambda's advanced logging controls ask for them.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;

/// Logs to stderr at `AWS_LAMBDA_LOG_LEVEL` (what the template's `LoggingConfig` sets) or else
/// `RUST_LOG` (a plain level), info by default; as JSON unless `AWS_LAMBDA_LOG_FORMAT` is
/// `Text`. Every line of a request carries its ids, from the request's span.
///
/// Set up here rather than through lambda_http's `tracing` feature, which brings an env-filter
/// and its regex engine into every function: artifact size is a budget, and a level is enough.
pub fn init() {
    let level = level(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok(),
        std::env::var("RUST_LOG").ok(),
    );
    let text = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("text"));
    // Only fails if a subscriber is already set, and then that one logs.
    let _ = tracing::subscriber::set_global_default(subscriber(level, text, std::io::stderr));
}

/// The functions' log format, writing to `writer` (tests capture it this way).
pub fn subscriber<W>(
    level: tracing::Level,
    text: bool,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(false)
        .with_writer(writer);
    if text {
        Box::new(builder.finish())
    } else {
        Box::new(
            builder
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        )
    }
}

/// The level Lambda's setting names (TRACE to FATAL, any case), else `RUST_LOG`'s, else info.
fn level(lambda: Option<String>, rust_log: Option<String>) -> tracing::Level {
    [lambda, rust_log]
        .into_iter()
        .flatten()
        .find_map(|name| match name.trim().to_ascii_lowercase().as_str() {
            "fatal" => Some(tracing::Level::ERROR),
            other => other.parse().ok(),
        })
        .unwrap_or(tracing::Level::INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_s_level_wins_and_fatal_reads_as_error() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(level(some("DEBUG"), some("error")), tracing::Level::DEBUG);
        assert_eq!(level(some("FATAL"), None), tracing::Level::ERROR);
        assert_eq!(level(None, some("warn")), tracing::Level::WARN);
        assert_eq!(level(some("chatty"), some("trace")), tracing::Level::TRACE);
        assert_eq!(level(None, None), tracing::Level::INFO);
    }
}
