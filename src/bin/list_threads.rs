//! The `list_threads` function: wiring only; the endpoint is `api::endpoints::list_threads`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::ListThreads>().await
}
