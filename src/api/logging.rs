//! Log lines as CloudWatch takes them.

/// JSON log lines on stderr, at `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` (a plain level: error,
/// warn, info, debug, trace), info by default.
///
/// Set up here rather than through lambda_http's `tracing` feature, which brings an env-filter
/// and its regex engine into every function: artifact size is a budget, and a level is enough.
pub fn init() {
    let level = ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.to_ascii_lowercase().parse().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}
