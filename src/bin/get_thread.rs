//! The `get_thread` function: wiring only; the endpoint is `api::endpoints::get_thread`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::GetThread>().await
}
