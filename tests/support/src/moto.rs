//! Secrets Manager as moto serves it (`scripts/test` starts it and names it in
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER`), reached the way the functions reach theirs.

use acs_chat_api::config::AwsSettings;
use serde_json::Value;

/// Where moto serves Secrets Manager.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER").expect(
        "AWS_ENDPOINT_URL_SECRETS_MANAGER must point at moto_server: run `bash scripts/test`",
    )
}

/// The settings of an AWS client of moto's at `endpoint` (test values).
pub fn settings(endpoint: &str) -> AwsSettings {
    AwsSettings {
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        session_token: None,
        secrets_manager_endpoint: Some(endpoint.to_owned()),
        dynamodb_endpoint: Some(endpoint.to_owned()),
        s3_endpoint: Some(endpoint.to_owned()),
    }
}

/// A DynamoDB client for moto (which serves every service on one port).
pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let endpoint = endpoint();
    let sdk = acs_chat_api::aws::sdk_config(&settings(&endpoint), &reqwest::Client::new());
    acs_chat_api::people::client(&sdk, Some(&endpoint))
}

/// A fresh people table, keyed as template.yaml's (`pk`, `sk`, on demand); its name.
pub async fn create_people_table(dynamodb: &aws_sdk_dynamodb::Client) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let name = format!("people-{}", uuid::Uuid::new_v4());
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    dynamodb
        .create_table()
        .table_name(&name)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    name
}

/// A Secrets Manager client for the service at `endpoint`, on the functions' own HTTP path.
pub fn secrets_client_at(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let sdk = acs_chat_api::aws::sdk_config(&settings(endpoint), &reqwest::Client::new());
    acs_chat_api::secrets::client(&sdk, Some(endpoint))
}

/// A Secrets Manager client for moto.
pub fn secrets_client() -> aws_sdk_secretsmanager::Client {
    secrets_client_at(&endpoint())
}

/// Stores `value` as a new secret named `prefix` and a fresh suffix; its id.
pub async fn store_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    prefix: &str,
    value: &Value,
) -> String {
    store_secret_text(secrets, prefix, value.to_string()).await
}

/// Stores `text` as a new secret named `prefix` and a fresh suffix; its id.
pub async fn store_secret_text(
    secrets: &aws_sdk_secretsmanager::Client,
    prefix: &str,
    text: String,
) -> String {
    let secret_id = format!("{prefix}-{}", uuid::Uuid::new_v4());
    secrets
        .create_secret()
        .name(&secret_id)
        .secret_string(text)
        .send()
        .await
        .unwrap();
    secret_id
}

/// A fresh bucket in moto's S3; its name. moto takes an unsigned request, and a test needs no
/// more than the bucket.
pub async fn create_bucket() -> String {
    let name = format!("files-{}", uuid::Uuid::new_v4().simple());
    let created = reqwest::Client::new()
        .put(format!("{}/{name}", endpoint()))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    name
}

/// The keys in `bucket` under `prefix`, as moto lists them.
pub async fn keys(bucket: &str, prefix: &str) -> Vec<String> {
    let listed = reqwest::Client::new()
        .get(format!(
            "{}/{bucket}?list-type=2&prefix={prefix}",
            endpoint()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    listed
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
        .collect()
}
