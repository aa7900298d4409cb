//! The `mute_thread` function: wiring only; the endpoint is `api::endpoints::mute_thread`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::MuteThread>().await
}
