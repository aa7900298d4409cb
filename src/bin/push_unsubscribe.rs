//! The `push_unsubscribe` function: wiring only; the endpoint is `api::endpoints::push_unsubscribe`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::PushUnsubscribe>().await
}
