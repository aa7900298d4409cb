//! The `upload_url` function: wiring only; the endpoint is `api::endpoints::upload_url`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    acs_chat_api::api::run::<acs_chat_api::api::endpoints::UploadUrl>().await
}
