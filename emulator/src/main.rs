//! `acs-emulator`: serves the emulator until Ctrl-C or SIGTERM and prints its connection string.
//!
//! Usage: `acs-emulator [--listen 127.0.0.1:8080] [--tls] [--limits] [--cert-out PATH]
//! [--access-key BASE64]` (`--limits` enforces ACS's documented rate limits)
//! (the key may also come from `ACS_EMULATOR_ACCESS_KEY`).

use std::io::Write;

use acs_emulator::{Config, Emulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let mut listen = "127.0.0.1:8080".to_owned();
    let mut cert_out = None;
    let mut config = Config::default();
    let mut key = std::env::var("ACS_EMULATOR_ACCESS_KEY").ok();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            "--tls" => config.tls = true,
            "--limits" => config.limits = true,
            "--cert-out" => cert_out = Some(args.next().ok_or("--cert-out needs a path")?),
            "--access-key" => key = Some(args.next().ok_or("--access-key needs a value")?),
            "-h" | "--help" => {
                println!(
                    "acs-emulator [--listen ADDR] [--tls] [--limits] [--cert-out PATH] [--access-key BASE64]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if let Some(key) = key {
        config.access_key = Some(acs_core::AccessKey::from_base64(&key)?);
    }

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let emulator = Emulator::serve(listener, config)?;
    if let (Some(path), Some(pem)) = (cert_out, emulator.certificate_pem()) {
        std::fs::write(path, pem)?;
    }
    // Test values only: the key is the emulator's own, never a real resource's.
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "ACS_CONNECTION_STRING={}",
        emulator.connection_string().expose()
    )?;
    stdout.flush()?;

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    emulator.stop().await;
    Ok(())
}
