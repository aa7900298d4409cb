//! Log lines as Lambda's advanced logging controls ask for them.

use tracing::Subscriber;

use crate::config::LogSettings;
use tracing_subscriber::fmt::MakeWriter;

/// Logs to stderr at the configured level (Lambda's `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`),
/// as JSON unless the format is `Text`. Every line of a request carries its ids, from the
/// request's span.
///
/// Set up here rather than through lambda_http's `tracing` feature, which brings an env-filter
/// and its regex engine into every function: artifact size is a budget, and a level is enough.
pub fn init(settings: LogSettings) {
    // Only fails if a subscriber is already set, and then that one logs.
    let _ = tracing::subscriber::set_global_default(subscriber(
        settings.level,
        settings.text,
        std::io::stderr,
    ));
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
