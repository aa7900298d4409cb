//! Serving: the accept loop over plain TCP or TLS, and the [`Emulator`] handle tests hold.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use acs_core::connection_string::parse_endpoint;
use acs_core::{AccessKey, ConnectionString, Url};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::faults::Faults;
use crate::limits::Limits;
use crate::routes::{self, Shared};
use crate::store::Store;

/// How to start an emulator.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Serve HTTPS with a fresh self-signed certificate for `localhost` and `127.0.0.1`.
    pub tls: bool,
    /// The access key to verify signatures with; a random one if unset.
    pub access_key: Option<AccessKey>,
    /// Enforce ACS's documented rate limits from the start.
    pub limits: bool,
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    key: AccessKey,
    scheme: &'static str,
    certificate_pem: Option<String>,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

fn random_key() -> io::Result<AccessKey> {
    let bytes: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| *u.as_bytes())
        .collect();
    AccessKey::from_base64(&base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        bytes,
    ))
    .map_err(io::Error::other)
}

fn tls_acceptor() -> io::Result<(TlsAcceptor, String)> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(io::Error::other)?;
    let pem = certified.cert.pem();
    let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(io::Error::other)?;
    // HTTP/2 where the client offers it, so that a fan-out can share one connection.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), pem))
}

impl Emulator {
    /// Starts on a free loopback port.
    pub async fn start(config: Config) -> io::Result<Self> {
        Self::serve(TcpListener::bind("127.0.0.1:0").await?, config)
    }

    /// Starts on a listener the caller bound.
    pub fn serve(listener: TcpListener, config: Config) -> io::Result<Self> {
        let key = match config.access_key {
            Some(key) => key,
            None => random_key()?,
        };
        let (acceptor, certificate_pem) = if config.tls {
            let (acceptor, pem) = tls_acceptor()?;
            (Some(acceptor), Some(pem))
        } else {
            (None, None)
        };
        let scheme = if config.tls { "https" } else { "http" };
        let resource_id = uuid::Uuid::new_v4().to_string();
        let events = crate::eventgrid::EventGrid::start(&resource_id);
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(key.clone(), resource_id)),
            events,
            faults: Faults::default(),
            limits: Limits::default(),
            journal: Mutex::default(),
            scheme,
            push: crate::push::PushService::default(),
        });
        shared.limits.set_enabled(config.limits);
        let addr = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel();
        let task = tokio::spawn(run(listener, acceptor, shared.clone(), async {
            let _ = stop.await;
        }));
        Ok(Self {
            addr,
            key,
            scheme,
            certificate_pem,
            shared,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// Its endpoint URL, ending in `/`.
    pub fn endpoint(&self) -> Url {
        let host = if self.scheme == "https" {
            format!("localhost:{}", self.addr.port())
        } else {
            self.addr.to_string()
        };
        parse_endpoint(&format!("{}://{host}/", self.scheme))
            .unwrap_or_else(|_| unreachable!("a socket address is a valid host"))
    }

    /// The connection string clients use to reach it.
    pub fn connection_string(&self) -> ConnectionString {
        ConnectionString::new(self.endpoint(), self.key.clone())
    }

    /// The self-signed certificate, PEM, when serving HTTPS: clients trust it to connect.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// Its faults and request counters.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The latest ACS calls served, oldest first.
    pub fn journal(&self) -> Vec<crate::routes::Served> {
        crate::lock::lock(&self.shared.journal)
            .iter()
            .cloned()
            .collect()
    }

    /// Its rate limits, to switch on or off.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// Starts verifying signatures with `key` only, as a resource does once its key is
    /// regenerated; clients holding the old key are refused from now on.
    pub fn rotate_key(&mut self, key: AccessKey) {
        self.shared.store().set_key(key.clone());
        self.key = key;
    }

    /// Gives the next user message of any thread the id `id`, as two threads' messages can share
    /// one in ACS (ids are epoch ms, unique within a thread only).
    pub fn pin_next_message_id(&self, id: i64) {
        self.shared.store().pin_next_message_id(id);
    }

    /// Moves a thread's creation `days` back, so that a test reaches the end of its retention.
    pub fn age_thread(&self, thread_id: &str, days: u32) -> Result<(), crate::failure::Failure> {
        self.shared.store().age_thread(thread_id, days)
    }

    /// A chat token for `user_id` expiring `expires_in` from now (negative: already expired).
    pub fn mint_token(&self, user_id: &str, expires_in: time::Duration) -> Option<String> {
        self.mint_token_with_scopes(user_id, expires_in, &["chat"])
    }

    /// A token for `user_id` with `scopes`, expiring `expires_in` from now.
    pub fn mint_token_with_scopes(
        &self,
        user_id: &str,
        expires_in: time::Duration,
        scopes: &[&str],
    ) -> Option<String> {
        let expires_at = time::OffsetDateTime::now_utc() + expires_in;
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        self.shared.store().mint(user_id, &scopes, expires_at).ok()
    }

    /// Stops serving and waits for the accept loop to end.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Accepts connections until `shutdown` resolves; each connection is served on its own task.
pub async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let counted = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = shared.clone();
                async move { routes::handle(&shared, request).await }
            });
            let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let served = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => {
                        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                        counted
                            .faults
                            .count_connection(if h2 { "h2" } else { "http/1.1" });
                        http.serve_connection(TokioIo::new(stream), service).await
                    }
                    Err(error) => {
                        tracing::debug!(%error, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    counted.faults.count_connection("http");
                    http.serve_connection(TokioIo::new(stream), service).await
                }
            };
            if let Err(error) = served {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
}
