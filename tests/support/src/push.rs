//! The stand-in push service for tests: a second emulator, over HTTPS as every push service
//! is, whose `/push` routes take pushes as a push service does and open them with the
//! subscription's keys, as the person's browser would.

use acs_emulator::{Config as EmulatorConfig, Emulator};
use serde_json::{Value, json};

/// The VAPID key pair of the tests' deployments (RFC 8291's application server key, a test
/// value).
pub const VAPID_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
pub const VAPID_PUBLIC: &str =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";

/// The stand-in, and a client that trusts its certificate.
pub struct PushService {
    emulator: Emulator,
    client: reqwest::Client,
}

/// A push service that never answers: it takes each connection and holds it, saying nothing,
/// as a host that has gone quiet does.
pub struct BlackHole {
    pub addr: std::net::SocketAddr,
}

impl BlackHole {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Self { addr }
    }

    /// Its host and port, as `PUSH_SERVICES` names it.
    pub fn service(&self) -> String {
        self.addr.to_string()
    }

    /// `device`'s subscription moved to an endpoint here (its keys still good).
    pub fn subscription(&self, device: &Device, n: usize) -> Value {
        let mut subscription = device.subscription.clone();
        subscription["endpoint"] = json!(format!("https://{}/push/{}/{n}", self.addr, device.id));
        subscription
    }
}

/// A browser's subscription at the stand-in.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    /// As `PushSubscription.toJSON()` gives it.
    pub subscription: Value,
}

impl PushService {
    pub async fn start() -> Self {
        let emulator = Emulator::start(EmulatorConfig {
            tls: true,
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        let pem = emulator.certificate_pem().unwrap().to_owned();
        let client = reqwest::Client::builder()
            .tls_certs_merge(reqwest::Certificate::from_pem_bundle(pem.as_bytes()).unwrap())
            .build()
            .unwrap();
        Self { emulator, client }
    }

    /// Its certificate, for the functions' client to trust.
    pub fn certificate_pem(&self) -> String {
        self.emulator.certificate_pem().unwrap().to_owned()
    }

    /// Its host, as `PUSH_SERVICES` names it.
    pub fn host(&self) -> String {
        self.emulator.endpoint().host_str().unwrap().to_owned()
    }

    /// Its host and port, as `PUSH_SERVICES` names it (it is not at the push services' 443).
    pub fn service(&self) -> String {
        let endpoint = self.emulator.endpoint();
        format!(
            "{}:{}",
            self.host(),
            endpoint.port_or_known_default().unwrap()
        )
    }

    /// Its origin: the VAPID JWT's audience.
    pub fn origin(&self) -> String {
        self.emulator.endpoint().origin().ascii_serialization()
    }

    fn url(&self, path: &str) -> reqwest::Url {
        let mut url = self.emulator.endpoint().clone();
        url.set_path(path);
        url
    }

    /// A new subscription, as a page's `pushManager.subscribe()` with the deployment's key.
    pub async fn subscribe(&self) -> Device {
        self.subscribe_for(VAPID_PUBLIC).await
    }

    /// A new subscription for the application server key `key`.
    pub async fn subscribe_for(&self, key: &str) -> Device {
        let made: Value = self
            .client
            .post(self.url("_emulator/push/subscriptions"))
            .json(&json!({"applicationServerKey": key}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = made["id"].as_str().unwrap().to_owned();
        let mut subscription = made;
        subscription.as_object_mut().unwrap().remove("id");
        Device { id, subscription }
    }

    /// What reached `device`, opened: each push's payload and headers.
    pub async fn received(&self, device: &Device) -> Vec<Value> {
        self.state(device).await["received"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Why pushes to `device` were refused.
    pub async fn refused(&self, device: &Device) -> Vec<Value> {
        self.state(device).await["refused"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn state(&self, device: &Device) -> Value {
        let path = format!("_emulator/push/subscriptions/{}", device.id);
        self.client
            .get(self.url(&path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Answers the next pushes to `device` with `statuses`, and with 410 from then on if
    /// `gone`.
    pub async fn answer(&self, device: &Device, statuses: &[u16], gone: bool) {
        let path = format!("_emulator/push/subscriptions/{}/answers", device.id);
        let answer = self
            .client
            .post(self.url(&path))
            .json(&json!({"statuses": statuses, "gone": gone}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 204);
    }

    /// Waits until `device` has `count` pushes, or a while; then a moment more, for anything
    /// doubled to show.
    pub async fn await_received(&self, device: &Device, count: usize) -> Vec<Value> {
        for _ in 0..100 {
            if self.received(device).await.len() >= count {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.received(device).await
    }
}
