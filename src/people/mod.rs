//! The people table (DynamoDB): what ACS cannot hold for a person.
//!
//! ACS identities are anonymous by design; an app keeps its own mapping from its users to
//! them. Here a person is who the identity provider says (issuer and subject), and keeps one
//! ACS identity for life. The table is one of items keyed `pk`/`sk`, so each person's state
//! lives under one partition and is read in one query:
//!
//! | pk | sk | holds |
//! |---|---|---|
//! | `person#<issuer>#<subject>` | `identity` | `user_id`, `display_name`, `first_seen`, `last_seen` |
//! | `user#<ACS user id>` | `person` | `issuer`, `subject` (so deleting an identity finds its person) |
//! | `user#<ACS user id>` | `read#<thread id>` | `sequence_id`: the person's read position in the thread |
//! | `user#<ACS user id>` | `mute#<thread id>` | present while the person has muted the thread |
//! | `user#<ACS user id>` | `push#<endpoint hash>` | a push subscription: `endpoint`, `p256dh`, `auth`, `created`; while its pushes fail, `failing_since` and `unanswered` |
//! | `user#<ACS user id>` | `uploads#<UTC day>` | `files`, `bytes`: what the person signed for upload that day; `expires_at` |
//! | `user#<ACS user id>` | `pushes` | `version`: bumped by every `subscribe`, whose write holds only if nobody's came between its read and it (so the cap holds under concurrency) |
//! | `pushed#<ACS user id>#<thread id>#<message id>` | `pushed` | a message pushed to the person; `expires_at` (DynamoDB's TTL) |
//!
//! The `pushed#` items are apart from the person's partition: they come one a message, and the
//! query that reads the partition for every event must stay small.
//!
//! The first sign-in claims both of its items in one transaction, each only if absent: of
//! people signing in at once for the first time, one wins and the others read the winner's.

pub mod sign_in;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use aws_types::SdkConfig;
use time::OffsetDateTime;

use crate::acs::http::count_upstream;
use crate::acs::{MessageId, ThreadId, UserId};
use crate::push::subscription::{MAX_PER_PERSON, Subscription};

/// Why the table could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeopleError {
    #[error("the people table is unavailable: {0}")]
    Unavailable(String),
    #[error("the people table holds an item it cannot read: {0}")]
    Corrupt(&'static str),
    /// Others kept writing the same items: the request may go again in a moment.
    #[error("{0} kept changing while this request wrote them")]
    Contended(&'static str),
}

fn unavailable<E, R>(error: SdkError<E, R>) -> PeopleError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    PeopleError::Unavailable(DisplayErrorContext(&error).to_string())
}

/// A person as the table knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub user_id: UserId,
    pub display_name: Option<String>,
    pub first_seen: OffsetDateTime,
}

/// How a first sign-in's claim ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Won,
    /// Someone claimed the person first: their identity is the person's.
    Lost,
}

/// What the table keeps for a person, in one partition: how far they have read each thread,
/// which they have muted (threads they said nothing about are not in it), and where their
/// devices take pushes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    pub read: HashMap<String, u64>,
    pub muted: std::collections::HashSet<String>,
    pub subscriptions: Vec<KeptSubscription>,
    /// The `pushes` item's version as read; `None` before the person's first subscription.
    pub subscriptions_version: Option<u64>,
    /// The days of upload counts kept (their sort keys), for forgetting the person.
    pub upload_days: Vec<String>,
}

/// Whether an upload fitted in the person's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Fits,
    /// Past the day's files or bytes: the next UTC day starts afresh.
    OverQuota,
}

/// A push subscription as kept: checked when it was taken, and again before each push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptSubscription {
    /// The table's key of it ([`crate::push::subscription::key_of`] its endpoint).
    pub key: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// Epoch milliseconds it was taken: the oldest goes first when a person has too many.
    pub created: i64,
    /// Epoch milliseconds of the first of the pushes failing since the last that was taken.
    pub failing_since: Option<i64>,
    /// How many pushes in a row went unanswered.
    pub unanswered: u32,
}

/// How a push to a device failed, for whether to forget it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer in time, or no connection.
    Unanswered,
    /// 429 or 5xx, after the sender's attempts.
    Failing,
}

/// Pushes in a row that go unanswered before a device is forgotten: each held a delivery for
/// the sender's whole deadline, and a push service that is up answers in well under one.
pub const MAX_UNANSWERED: u32 = 3;
/// How long a device's pushes may keep failing before it is forgotten: as long as a push
/// service keeps a push for an offline device (a day), so a service's outage costs nothing.
pub const FAILING_FOR: time::Duration = time::Duration::days(1);

/// Where a `subscribe` left the person's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribed {
    /// How many subscriptions they have now.
    pub kept: usize,
    /// How many of their oldest the new one replaced.
    pub replaced: usize,
}

/// How often a `subscribe` that met another device's write tries again.
const SUBSCRIBE_ATTEMPTS: u32 = 8;

/// How long a message's push is remembered: past Event Grid's last redelivery (24 hours).
const PUSHED_FOR: time::Duration = time::Duration::days(2);

impl Kept {
    /// The sequence id read up to in `thread` (0: nothing read yet).
    pub fn read_up_to(&self, thread: &ThreadId) -> u64 {
        self.read.get(thread.as_str()).copied().unwrap_or(0)
    }

    pub fn is_muted(&self, thread: &ThreadId) -> bool {
        self.muted.contains(thread.as_str())
    }
}

/// Where a `mark_read` left the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    /// To the position asked for.
    To(u64),
    /// Nowhere: the position was already past it, and positions move back only on purpose.
    Already,
}

/// A DynamoDB client on the container's SDK settings, at `endpoint` when it is another
/// DynamoDB (moto, ministack).
pub fn client(sdk: &SdkConfig, endpoint: Option<&str>) -> Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(sdk);
    if let Some(url) = endpoint {
        config = config.endpoint_url(url);
    }
    Client::from_conf(config.build())
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The sequence id a `read#` item holds.
fn read_position(item: &HashMap<String, AttributeValue>) -> Result<u64, PeopleError> {
    item.get("sequence_id")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or(PeopleError::Corrupt("read position"))
}

fn kept_subscription(
    key: &str,
    item: &HashMap<String, AttributeValue>,
) -> Result<KeptSubscription, PeopleError> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or(PeopleError::Corrupt("push subscription"))
    };
    Ok(KeptSubscription {
        key: key.to_owned(),
        endpoint: text("endpoint")?,
        p256dh: text("p256dh")?,
        auth: text("auth")?,
        created: number(item, "created").unwrap_or(0),
        failing_since: number(item, "failing_since"),
        unanswered: number(item, "unanswered")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
    })
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Sends a conditional write: `true` when it was made, `false` when a condition did not hold.
async fn conditionally<T, E, R>(
    write: impl std::future::Future<Output = Result<T, SdkError<E, R>>>,
) -> Result<bool, PeopleError>
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    match count_upstream(write).await {
        Ok(_) => Ok(true),
        Err(error) if conditional(&error) => Ok(false),
        Err(error) => Err(unavailable(error)),
    }
}

/// Whether a write failed only on one of its conditions.
fn conditional<E, R>(error: &SdkError<E, R>) -> bool
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    error.as_service_error().is_some_and(|e| {
        matches!(
            e.code(),
            Some("ConditionalCheckFailedException" | "TransactionCanceledException")
        ) && (e.code() == Some("ConditionalCheckFailedException")
            || DisplayErrorContext(e)
                .to_string()
                .contains("ConditionalCheckFailed"))
    })
}

fn person_key(issuer: &str, subject: &str) -> String {
    format!("person#{issuer}#{subject}")
}

fn user_key(user_id: &UserId) -> String {
    format!("user#{user_id}")
}

/// The table, as the functions that use it hold it.
#[derive(Debug, Clone)]
pub struct People {
    client: Client,
    table: String,
}

impl People {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// The person `subject` of `issuer`, if they have signed in before.
    pub async fn find(&self, issuer: &str, subject: &str) -> Result<Option<Person>, PeopleError> {
        let found = count_upstream(
            self.client
                .get_item()
                .table_name(&self.table)
                .key("pk", s(person_key(issuer, subject)))
                .key("sk", s("identity"))
                .consistent_read(true)
                .send(),
        )
        .await
        .map_err(unavailable)?;
        let Some(item) = found.item else {
            return Ok(None);
        };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let user_id = text("user_id")
            .and_then(|id| UserId::parse(&id).ok())
            .ok_or(PeopleError::Corrupt("user_id"))?;
        let first_seen = text("first_seen")
            .and_then(|at| at.parse::<i64>().ok())
            .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok())
            .ok_or(PeopleError::Corrupt("first_seen"))?;
        Ok(Some(Person {
            user_id,
            display_name: text("display_name"),
            first_seen,
        }))
    }

    /// Claims `subject` of `issuer` for `person`'s new identity, if nobody has yet.
    pub async fn claim(
        &self,
        issuer: &str,
        subject: &str,
        person: &Person,
    ) -> Result<Claim, PeopleError> {
        let at = s(person.first_seen.unix_timestamp().to_string());
        let mut identity = Put::builder()
            .table_name(&self.table)
            .item("pk", s(person_key(issuer, subject)))
            .item("sk", s("identity"))
            .item("user_id", s(person.user_id.as_str()))
            .item("first_seen", at.clone())
            .item("last_seen", at)
            .condition_expression("attribute_not_exists(pk)");
        if let Some(name) = &person.display_name {
            identity = identity.item("display_name", s(name));
        }
        let back = self.way_back(issuer, subject, &person.user_id);
        let put = |put: aws_sdk_dynamodb::types::builders::PutBuilder| {
            put.build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|e| PeopleError::Unavailable(e.to_string()))
        };
        let written = count_upstream(
            self.client
                .transact_write_items()
                .transact_items(put(identity)?)
                .transact_items(put(back)?)
                .send(),
        )
        .await;
        match written {
            Ok(_) => Ok(Claim::Won),
            Err(error) => {
                let lost = error.as_service_error().is_some_and(|e| {
                    e.is_transaction_canceled_exception()
                        && DisplayErrorContext(e)
                            .to_string()
                            .contains("ConditionalCheckFailed")
                });
                if lost {
                    Ok(Claim::Lost)
                } else {
                    Err(unavailable(error))
                }
            }
        }
    }

    /// The way back from `user_id` to its person, written only where none is.
    fn way_back(
        &self,
        issuer: &str,
        subject: &str,
        user_id: &UserId,
    ) -> aws_sdk_dynamodb::types::builders::PutBuilder {
        Put::builder()
            .table_name(&self.table)
            .item("pk", s(user_key(user_id)))
            .item("sk", s("person"))
            .item("issuer", s(issuer))
            .item("subject", s(subject))
            .condition_expression("attribute_not_exists(pk)")
    }

    /// Gives `subject` of `issuer`, whose identity `gone` ACS no longer knows, `person`'s new
    /// identity: the person stays, with their first sign-in, and only the identity changes.
    /// Conditional on the person still having `gone`, so of sign-ins doing this at once one
    /// wins; the way back from `gone` goes with it, and what was kept for it after.
    pub async fn rebind(
        &self,
        issuer: &str,
        subject: &str,
        gone: &UserId,
        person: &Person,
    ) -> Result<Claim, PeopleError> {
        let built =
            |e: aws_sdk_dynamodb::error::BuildError| PeopleError::Unavailable(e.to_string());
        let identity = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .key("pk", s(person_key(issuer, subject)))
            .key("sk", s("identity"))
            .update_expression("SET user_id = :new")
            .condition_expression("user_id = :gone")
            .expression_attribute_values(":new", s(person.user_id.as_str()))
            .expression_attribute_values(":gone", s(gone.as_str()))
            .build()
            .map_err(built)?;
        let back = self
            .way_back(issuer, subject, &person.user_id)
            .build()
            .map_err(built)?;
        let old_back = Delete::builder()
            .table_name(&self.table)
            .key("pk", s(user_key(gone)))
            .key("sk", s("person"))
            .build()
            .map_err(built)?;
        let written = conditionally(
            self.client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(identity).build())
                .transact_items(TransactWriteItem::builder().put(back).build())
                .transact_items(TransactWriteItem::builder().delete(old_back).build())
                .send(),
        )
        .await?;
        if !written {
            return Ok(Claim::Lost);
        }
        // Positions and devices of an identity nobody has: a leftover, not a failure.
        if let Err(error) = self.forget_threads(gone).await {
            tracing::warn!(%error, "could not forget what was kept for a vanished identity");
        }
        Ok(Claim::Won)
    }

    /// Notes that `subject` of `issuer` signed in `now`, under `display_name` if given.
    pub async fn seen(
        &self,
        issuer: &str,
        subject: &str,
        display_name: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), PeopleError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(person_key(issuer, subject)))
            .key("sk", s("identity"))
            .expression_attribute_values(":at", s(now.unix_timestamp().to_string()))
            .condition_expression("attribute_exists(pk)");
        update = match display_name {
            Some(name) => update
                .update_expression("SET last_seen = :at, display_name = :name")
                .expression_attribute_values(":name", s(name)),
            None => update.update_expression("SET last_seen = :at"),
        };
        count_upstream(update.send())
            .await
            .map(drop)
            .map_err(unavailable)
    }

    /// Forgets the person whose identity is `user_id`, so their next sign-in starts afresh,
    /// and everything they said about their threads; `false` if no person has it.
    pub async fn forget(&self, user_id: &UserId) -> Result<bool, PeopleError> {
        self.forget_threads(user_id).await?;
        let found = count_upstream(
            self.client
                .get_item()
                .table_name(&self.table)
                .key("pk", s(user_key(user_id)))
                .key("sk", s("person"))
                .consistent_read(true)
                .send(),
        )
        .await
        .map_err(unavailable)?;
        let Some(item) = found.item else {
            return Ok(false);
        };
        let text = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .ok_or(PeopleError::Corrupt("person"))
        };
        let (issuer, subject) = (text("issuer")?, text("subject")?);
        let delete = |pk: String, sk: &str| {
            Delete::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .build()
                .map(|delete| TransactWriteItem::builder().delete(delete).build())
                .map_err(|e| PeopleError::Unavailable(e.to_string()))
        };
        count_upstream(
            self.client
                .transact_write_items()
                .transact_items(delete(person_key(&issuer, &subject), "identity")?)
                .transact_items(delete(user_key(user_id), "person")?)
                .send(),
        )
        .await
        .map_err(unavailable)?;
        Ok(true)
    }

    /// Deletes `user_id`'s read positions, mutes and push subscriptions, 25 to a batch
    /// (DynamoDB's most).
    async fn forget_threads(&self, user_id: &UserId) -> Result<(), PeopleError> {
        let said = self.threads(user_id).await?;
        let keys: Vec<String> = said
            .read
            .keys()
            .map(|thread| format!("read#{thread}"))
            .chain(said.muted.iter().map(|thread| format!("mute#{thread}")))
            .chain(
                said.subscriptions
                    .iter()
                    .map(|kept| format!("push#{}", kept.key)),
            )
            .chain(said.subscriptions_version.map(|_| "pushes".to_owned()))
            .chain(said.upload_days.iter().cloned())
            .collect();
        for batch in keys.chunks(25) {
            let mut requests = Vec::with_capacity(batch.len());
            for sk in batch {
                let delete = aws_sdk_dynamodb::types::DeleteRequest::builder()
                    .key("pk", s(user_key(user_id)))
                    .key("sk", s(sk.as_str()))
                    .build()
                    .map_err(|e| PeopleError::Unavailable(e.to_string()))?;
                requests.push(
                    aws_sdk_dynamodb::types::WriteRequest::builder()
                        .delete_request(delete)
                        .build(),
                );
            }
            let mut pending = HashMap::from([(self.table.clone(), requests)]);
            // Whatever DynamoDB leaves unprocessed under load goes again, a few times.
            for _ in 0..4 {
                let written = count_upstream(
                    self.client
                        .batch_write_item()
                        .set_request_items(Some(pending))
                        .send(),
                )
                .await
                .map_err(unavailable)?;
                pending = written.unprocessed_items.unwrap_or_default();
                if pending.values().all(Vec::is_empty) {
                    break;
                }
            }
            if !pending.values().all(Vec::is_empty) {
                return Err(PeopleError::Unavailable(
                    "some read positions could not be deleted".into(),
                ));
            }
        }
        Ok(())
    }

    /// Everything kept for `user_id`, in one query of their partition (at most
    /// a few pages however many threads they are in: the items are small).
    pub async fn threads(&self, user_id: &UserId) -> Result<Kept, PeopleError> {
        self.partition(user_id, false).await
    }

    /// [`threads`](Self::threads), read consistently or not.
    async fn partition(&self, user_id: &UserId, consistent: bool) -> Result<Kept, PeopleError> {
        let mut kept = Kept::default();
        let mut start = None;
        loop {
            let page = count_upstream(
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(user_key(user_id)))
                    .consistent_read(consistent)
                    .set_exclusive_start_key(start)
                    .send(),
            )
            .await
            .map_err(unavailable)?;
            for item in page.items() {
                let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()) else {
                    continue;
                };
                if let Some(thread) = sk.strip_prefix("read#") {
                    kept.read.insert(thread.to_owned(), read_position(item)?);
                } else if let Some(thread) = sk.strip_prefix("mute#") {
                    kept.muted.insert(thread.to_owned());
                } else if let Some(key) = sk.strip_prefix("push#") {
                    kept.subscriptions.push(kept_subscription(key, item)?);
                } else if sk.starts_with("uploads#") {
                    kept.upload_days.push(sk.to_owned());
                } else if sk == "pushes" {
                    kept.subscriptions_version = number(item, "version")
                        .and_then(|n| u64::try_from(n).ok())
                        .or(Some(0));
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(kept);
            }
        }
    }

    /// `user_id`'s read position in `thread` (0: nothing read yet).
    pub async fn read_up_to(
        &self,
        user_id: &UserId,
        thread: &ThreadId,
    ) -> Result<u64, PeopleError> {
        let found = count_upstream(
            self.client
                .get_item()
                .table_name(&self.table)
                .key("pk", s(user_key(user_id)))
                .key("sk", s(format!("read#{thread}")))
                .consistent_read(true)
                .send(),
        )
        .await
        .map_err(unavailable)?;
        match found.item {
            None => Ok(0),
            Some(item) => read_position(&item),
        }
    }

    /// Moves `user_id`'s read position in `thread` to `sequence_id`: forward only, unless
    /// `back` (marking unread on purpose). Conditional, so devices reading at once never move
    /// it backwards.
    pub async fn mark_read(
        &self,
        user_id: &UserId,
        thread: &ThreadId,
        sequence_id: u64,
        back: bool,
    ) -> Result<Moved, PeopleError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_key(user_id)))
            .key("sk", s(format!("read#{thread}")))
            .update_expression("SET sequence_id = :s")
            .expression_attribute_values(":s", AttributeValue::N(sequence_id.to_string()));
        if !back {
            update = update
                .condition_expression("attribute_not_exists(sequence_id) OR sequence_id < :s");
        }
        Ok(match conditionally(update.send()).await? {
            true => Moved::To(sequence_id),
            false => Moved::Already,
        })
    }

    /// Mutes or unmutes `thread` for `user_id`.
    pub async fn set_muted(
        &self,
        user_id: &UserId,
        thread: &ThreadId,
        muted: bool,
    ) -> Result<(), PeopleError> {
        let (pk, sk) = (s(user_key(user_id)), s(format!("mute#{thread}")));
        if muted {
            count_upstream(
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .item("pk", pk)
                    .item("sk", sk)
                    .send(),
            )
            .await
            .map(drop)
            .map_err(unavailable)
        } else {
            count_upstream(
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", pk)
                    .key("sk", sk)
                    .send(),
            )
            .await
            .map(drop)
            .map_err(unavailable)
        }
    }

    /// Keeps `subscription` for `user_id`, given what is `kept` for them already: again for an
    /// endpoint they had (its keys renewed), and in place of their oldest when they have
    /// [`MAX_PER_PERSON`] others. The new item, the oldest's deletes and the `pushes` version
    /// are one transaction that holds only if the version is still the one read: of two
    /// devices subscribing at once one writes, the other reads again and tries again, so no
    /// race leaves more than the cap.
    pub async fn subscribe(
        &self,
        user_id: &UserId,
        mut kept: Kept,
        subscription: &Subscription,
        now: OffsetDateTime,
    ) -> Result<Subscribed, PeopleError> {
        for _ in 0..SUBSCRIBE_ATTEMPTS {
            let key = subscription.key();
            let mut others: Vec<&KeptSubscription> =
                kept.subscriptions.iter().filter(|k| k.key != key).collect();
            others.sort_by_key(|k| (k.created, k.key.clone()));
            let excess = (others.len() + 1).saturating_sub(MAX_PER_PERSON);
            let built =
                |e: aws_sdk_dynamodb::error::BuildError| PeopleError::Unavailable(e.to_string());
            let put = Put::builder()
                .table_name(&self.table)
                .item("pk", s(user_key(user_id)))
                .item("sk", s(format!("push#{key}")))
                .item("endpoint", s(subscription.endpoint.as_str()))
                .item("p256dh", s(subscription.p256dh()))
                .item("auth", s(subscription.auth()))
                .item("created", AttributeValue::N(millis(now).to_string()))
                .build()
                .map_err(built)?;
            let version = kept.subscriptions_version;
            let mut lock = aws_sdk_dynamodb::types::Update::builder()
                .table_name(&self.table)
                .key("pk", s(user_key(user_id)))
                .key("sk", s("pushes"))
                .update_expression("SET version = :next")
                .expression_attribute_values(
                    ":next",
                    AttributeValue::N((version.unwrap_or(0) + 1).to_string()),
                );
            lock = match version {
                None => lock.condition_expression("attribute_not_exists(pk)"),
                Some(seen) => lock
                    .condition_expression("version = :seen")
                    .expression_attribute_values(":seen", AttributeValue::N(seen.to_string())),
            };
            let mut transaction = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put).build())
                .transact_items(
                    TransactWriteItem::builder()
                        .update(lock.build().map_err(built)?)
                        .build(),
                );
            for old in &others[..excess] {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .key("pk", s(user_key(user_id)))
                    .key("sk", s(format!("push#{}", old.key)))
                    .build()
                    .map_err(built)?;
                transaction =
                    transaction.transact_items(TransactWriteItem::builder().delete(delete).build());
            }
            match count_upstream(transaction.send()).await {
                Ok(_) => {
                    return Ok(Subscribed {
                        kept: others.len() + 1 - excess,
                        replaced: excess,
                    });
                }
                Err(error) if conditional(&error) => {
                    // Spread apart, so that of those who met one of them goes next.
                    let random = RandomState::new().build_hasher().finish();
                    tokio::time::sleep(Duration::from_millis(5 + random % 40)).await;
                    kept = self.partition(user_id, true).await?;
                }
                Err(error) => return Err(unavailable(error)),
            }
        }
        Err(PeopleError::Contended("the person's push subscriptions"))
    }

    /// Counts an upload of `size` bytes against `user_id`'s day (UTC) if it fits within `quota`:
    /// one conditional write, so uploads signed at once never pass it together.
    pub async fn count_upload(
        &self,
        user_id: &UserId,
        size: u64,
        quota: crate::files::UploadQuota,
        now: OffsetDateTime,
    ) -> Result<Counted, PeopleError> {
        if size > quota.bytes {
            return Ok(Counted::OverQuota);
        }
        let day = now.date();
        let expires = (now + time::Duration::days(2)).unix_timestamp();
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_key(user_id)))
            .key("sk", s(format!("uploads#{day}")))
            .update_expression("ADD files :one, #bytes :size SET expires_at = :expires")
            .condition_expression(
                "attribute_not_exists(pk) OR (files < :files AND #bytes <= :room)",
            )
            .expression_attribute_names("#bytes", "bytes")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":size", AttributeValue::N(size.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N(expires.to_string()))
            .expression_attribute_values(":files", AttributeValue::N(quota.files.to_string()))
            .expression_attribute_values(
                ":room",
                AttributeValue::N((quota.bytes - size).to_string()),
            )
            .send();
        Ok(match conditionally(written).await? {
            true => Counted::Fits,
            false => Counted::OverQuota,
        })
    }

    /// Notes that a push to `device` failed; forgets the device once its pushes have gone
    /// unanswered [`MAX_UNANSWERED`] times in a row, or kept failing for [`FAILING_FOR`].
    /// Returns whether it was forgotten.
    pub async fn push_failed(
        &self,
        user_id: &UserId,
        device: &KeptSubscription,
        failure: Failure,
        now: OffsetDateTime,
    ) -> Result<bool, PeopleError> {
        let unanswered = device.unanswered + u32::from(failure == Failure::Unanswered);
        let since = device.failing_since.unwrap_or_else(|| millis(now));
        let failing_for = millis(now).saturating_sub(since);
        if unanswered >= MAX_UNANSWERED
            || i128::from(failing_for) >= FAILING_FOR.whole_milliseconds()
        {
            return self.unsubscribe(user_id, &device.key).await.map(|_| true);
        }
        let noted = self
            .device_update(user_id, device)
            .update_expression("SET failing_since = :since, unanswered = :unanswered")
            .expression_attribute_values(":since", AttributeValue::N(since.to_string()))
            .expression_attribute_values(":unanswered", AttributeValue::N(unanswered.to_string()))
            .send();
        conditionally(noted).await.map(|noted| !noted)
    }

    /// Notes that `device` took a push: its failures so far are forgiven. No write for a
    /// device that was not failing.
    pub async fn push_delivered(
        &self,
        user_id: &UserId,
        device: &KeptSubscription,
    ) -> Result<(), PeopleError> {
        if device.failing_since.is_none() && device.unanswered == 0 {
            return Ok(());
        }
        let cleared = self
            .device_update(user_id, device)
            .update_expression("REMOVE failing_since, unanswered")
            .send();
        conditionally(cleared).await.map(drop)
    }

    /// An update of `device`'s item that holds only while it is kept: a device unsubscribed
    /// meanwhile stays gone.
    fn device_update(
        &self,
        user_id: &UserId,
        device: &KeptSubscription,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_key(user_id)))
            .key("sk", s(format!("push#{}", device.key)))
            .condition_expression("attribute_exists(pk)")
    }

    /// Forgets `user_id`'s subscription kept as `key`; `false` if there was none.
    pub async fn unsubscribe(&self, user_id: &UserId, key: &str) -> Result<bool, PeopleError> {
        let deleted = count_upstream(
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(user_key(user_id)))
                .key("sk", s(format!("push#{key}")))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
                .send(),
        )
        .await
        .map_err(unavailable)?;
        Ok(deleted.attributes.is_some_and(|old| !old.is_empty()))
    }

    /// Claims the push of `message` in `thread` to `user_id`, so that it goes once however
    /// often, and to whichever container, Event Grid delivers its event; `false` when it was
    /// claimed before.
    pub async fn claim_push(
        &self,
        user_id: &UserId,
        thread: &ThreadId,
        message: &MessageId,
        now: OffsetDateTime,
    ) -> Result<bool, PeopleError> {
        conditionally(
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", s(format!("pushed#{user_id}#{thread}#{message}")))
                .item("sk", s("pushed"))
                .item(
                    "expires_at",
                    AttributeValue::N((now + PUSHED_FOR).unix_timestamp().to_string()),
                )
                .condition_expression("attribute_not_exists(pk)")
                .send(),
        )
        .await
    }
}
