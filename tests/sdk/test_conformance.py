"""The official Azure SDKs hold a two-user conversation against the emulator over HTTPS.

If the emulator drifts from what ACS does on the wire (signing, shapes, status codes, paging),
these SDKs are what notice.
"""

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.communication.chat import (
    ChatClient,
    ChatParticipant,
    CommunicationTokenCredential,
)
from azure.communication.identity import CommunicationIdentityClient, CommunicationUserIdentifier
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def identity(emulator):
    return CommunicationIdentityClient.from_connection_string(emulator.connection_string)


def new_user(identity):
    user, token = identity.create_user_and_token(["chat"])
    return user, token.token


def chat_client(emulator, token):
    return ChatClient(emulator.endpoint, CommunicationTokenCredential(token))


def test_signing_vectors_committed_for_the_rust_core_match_a_fresh_sdk_run():
    fresh = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "signing_vectors.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    committed = (ROOT / "crates" / "acs-core" / "src" / "testdata" / "hmac_vectors.json").read_text()
    assert json.loads(fresh) == json.loads(committed)


def test_identity_client_creates_issues_revokes_and_deletes(emulator, identity):
    user = identity.create_user()
    assert user.properties["id"].startswith("8:acs:")
    token = identity.get_token(user, ["chat"], token_expires_in=timedelta(hours=1))
    assert token.token.count(".") == 2
    user2, token2 = identity.create_user_and_token(["chat", "voip"])
    assert user2.properties["id"] != user.properties["id"]
    identity.revoke_tokens(user)
    identity.delete_user(user2)
    with pytest.raises(ResourceNotFoundError):
        identity.delete_user(user2)


def test_identity_client_gets_acs_validation_errors(identity):
    with pytest.raises(HttpResponseError) as raised:
        identity.create_user_and_token(["chat"], token_expires_in=timedelta(minutes=59))
    assert raised.value.status_code == 400
    assert "ValidationError" in str(raised.value)


def test_a_wrong_access_key_is_refused(emulator):
    wrong = emulator.connection_string.split("accesskey=")[0] + "accesskey=d3Jvbmcga2V5"
    client = CommunicationIdentityClient.from_connection_string(wrong)
    with pytest.raises(ClientAuthenticationError):
        client.create_user()


def test_two_users_hold_a_conversation(emulator, identity):
    alice, alice_token = new_user(identity)
    bob, bob_token = new_user(identity)
    alice_chat = chat_client(emulator, alice_token)
    bob_chat = chat_client(emulator, bob_token)

    created = alice_chat.create_chat_thread("Manual Two-Way Chat")
    assert not created.errors
    thread_id = created.chat_thread.id
    assert thread_id.startswith("19:") and thread_id.endswith("@thread.v2")

    alice_thread = alice_chat.get_chat_thread_client(thread_id)
    result = alice_thread.add_participants(
        [ChatParticipant(identifier=bob, display_name="Bob", share_history_time=datetime.now(timezone.utc) - timedelta(days=1))]
    )
    assert result == []
    bob_thread = bob_chat.get_chat_thread_client(thread_id)

    sent = []
    for i in range(3):
        sent.append(alice_thread.send_message(f"hello {i}", sender_display_name="Alice").id)
        sent.append(bob_thread.send_message(f"hi {i}", sender_display_name="Bob").id)

    pages = list(bob_thread.list_messages(results_per_page=2).by_page())
    assert len(pages) > 2
    messages = [m for page in pages for m in page]
    texts = [m.content.message for m in messages if m.type == "text"]
    assert texts == ["hi 2", "hello 2", "hi 1", "hello 1", "hi 0", "hello 0"]
    assert [m.id for m in messages if m.type == "text"] == list(reversed(sent))
    senders = {m.sender.properties["id"] for m in messages if m.type == "text"}
    assert senders == {alice.properties["id"], bob.properties["id"]}
    assert {m.type.value if hasattr(m.type, "value") else m.type for m in messages} >= {
        "participantAdded",
        "topicUpdated",
    }

    one = bob_thread.get_message(sent[0])
    assert one.content.message == "hello 0"

    bob_thread.send_read_receipt(sent[-2])
    receipts = list(alice_thread.list_read_receipts())
    assert [(r.sender.properties["id"], r.chat_message_id) for r in receipts] == [
        (bob.properties["id"], sent[-2])
    ]

    participants = list(alice_thread.list_participants(results_per_page=1))
    assert {p.identifier.properties["id"] for p in participants} == {
        alice.properties["id"],
        bob.properties["id"],
    }
    assert alice_thread.get_properties().topic == "Manual Two-Way Chat"


def test_chat_errors_match_acs(emulator, identity):
    alice, alice_token = new_user(identity)
    _, mallory_token = new_user(identity)
    thread_id = chat_client(emulator, alice_token).create_chat_thread("private").chat_thread.id

    header, payload, signature = alice_token.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    with pytest.raises(ClientAuthenticationError):
        list(chat_client(emulator, forged).get_chat_thread_client(thread_id).list_messages())

    with pytest.raises(HttpResponseError) as raised:
        list(chat_client(emulator, mallory_token).get_chat_thread_client(thread_id).list_messages())
    assert raised.value.status_code == 403

    with pytest.raises(ResourceNotFoundError):
        list(
            chat_client(emulator, alice_token)
            .get_chat_thread_client("19:doesnotexist@thread.v2")
            .list_messages()
        )

    # Without a token refresher the SDK sends an expired token as it is; ACS answers 401.
    expired = emulator.control(
        "POST", "/_emulator/tokens", {"userId": alice.properties["id"], "expiresInSeconds": -60}
    )["token"]
    with pytest.raises(ClientAuthenticationError):
        list(chat_client(emulator, expired).get_chat_thread_client(thread_id).list_messages())


def test_the_sdk_retries_a_throttled_send_as_azure_core_does(emulator, identity):
    _, token = new_user(identity)
    thread = chat_client(emulator, token)
    thread_id = thread.create_chat_thread("throttled").chat_thread.id
    emulator.control("DELETE", "/_emulator/requests")
    emulator.control(
        "POST",
        "/_emulator/faults",
        {"kind": "status", "status": 429, "retry_after": 0, "count": 1,
         "route": "POST /chat/threads/{threadId}/messages"},
    )
    thread.get_chat_thread_client(thread_id).send_message("after a 429")
    counts = emulator.control("GET", "/_emulator/requests")
    assert counts["POST /chat/threads/{threadId}/messages"] == 2


def test_metadata_travels_with_a_message_and_a_deleted_message_stays_listed_empty(emulator, identity):
    alice, alice_token = new_user(identity)
    bob, bob_token = new_user(identity)
    client = chat_client(emulator, alice_token)
    thread_id = client.create_chat_thread("metadata").chat_thread.id
    thread = client.get_chat_thread_client(thread_id)
    thread.add_participants([ChatParticipant(identifier=bob)])
    sent = thread.send_message("keyed", metadata={"idempotencyKey": "k-1"})
    message = thread.get_message(sent.id)
    assert message.metadata == {"idempotencyKey": "k-1"}

    with pytest.raises(HttpResponseError) as raised:
        chat_client(emulator, bob_token).get_chat_thread_client(thread_id).delete_message(sent.id)
    assert raised.value.status_code == 403, "only the sender deletes a message"

    thread.delete_message(sent.id)
    listed = [m for m in thread.list_messages() if m.id == sent.id]
    assert len(listed) == 1
    assert listed[0].deleted_on is not None
    assert listed[0].content.message == ""
    assert int(listed[0].version) > int(sent.id), "a deletion is a new version"
    newest = next(iter(thread.list_messages(results_per_page=1)))
    assert newest.id == sent.id, "the list is ordered by last change"


def test_acs_rate_limits_answer_429_with_retry_after(emulator, identity):
    _, token = new_user(identity)
    # No retries, so the 429 itself reaches the test (azure-core would wait it out).
    client = chat_client(emulator, token)
    thread_id = client.create_chat_thread("busy").chat_thread.id
    thread = client.get_chat_thread_client(thread_id, retry_total=0)
    emulator.control("POST", "/_emulator/limits", {"enabled": True})
    try:
        for i in range(10):
            thread.send_message(f"m{i}")
        with pytest.raises(HttpResponseError) as raised:
            thread.send_message("one too many")
        assert raised.value.status_code == 429
        assert int(raised.value.response.headers["Retry-After"]) >= 1
    finally:
        emulator.control("POST", "/_emulator/limits", {"enabled": False})


def test_the_rest_of_a_chat_s_life_through_the_sdks(emulator, identity):
    alice, alice_token = new_user(identity)
    bob, bob_token = new_user(identity)
    alice_client = chat_client(emulator, alice_token)
    bob_client = chat_client(emulator, bob_token)
    created = alice_client.create_chat_thread(
        "life", thread_participants=[ChatParticipant(identifier=alice, display_name="Alice")]
    )
    thread_id = created.chat_thread.id
    thread = alice_client.get_chat_thread_client(thread_id)
    thread.add_participants([ChatParticipant(identifier=bob, display_name="Bob")])

    names = {p.identifier.properties["id"]: p.display_name for p in thread.list_participants()}
    assert names == {alice.properties["id"]: "Alice", bob.properties["id"]: "Bob"}

    sent = thread.send_message("helo", sender_display_name="Alice")
    thread.update_message(sent.id, content="hello")
    edited = thread.get_message(sent.id)
    assert edited.content.message == "hello" and edited.edited_on is not None

    bob_thread = bob_client.get_chat_thread_client(thread_id)
    bob_thread.send_typing_notification(sender_display_name="Bob")
    bob_thread.update_topic("lunch")
    assert thread.get_properties().topic == "lunch"
    with pytest.raises(HttpResponseError) as raised:
        bob_thread.update_message(sent.id, content="not mine")
    assert raised.value.status_code == 403

    listed = [t.id for t in bob_client.list_chat_threads()]
    assert thread_id in listed

    bob_thread.remove_participant(bob)
    with pytest.raises(HttpResponseError) as raised:
        list(bob_thread.list_messages())
    assert raised.value.status_code == 403, "a removed participant is refused"
    assert thread_id in [t.id for t in bob_client.list_chat_threads()], "ACS still lists a left thread"
    kinds = [m.type for m in thread.list_messages()]
    assert "participantRemoved" in [str(k.value if hasattr(k, "value") else k) for k in kinds]

    alice_client.delete_chat_thread(thread_id)
    with pytest.raises(ResourceNotFoundError):
        thread.get_properties()
    deleted = [t for t in alice_client.list_chat_threads() if t.id == thread_id]
    assert deleted and deleted[0].deleted_on is not None


def test_revoked_and_deleted_identities_lose_their_tokens(emulator, identity):
    user, token = new_user(identity)
    client = chat_client(emulator, token)
    client.create_chat_thread("before")
    identity.revoke_tokens(user)
    with pytest.raises(ClientAuthenticationError):
        chat_client(emulator, token).create_chat_thread("after revoke")
    fresh = identity.get_token(user, ["chat"]).token
    chat_client(emulator, fresh).create_chat_thread("fresh token")
    identity.delete_user(user)
    with pytest.raises(ClientAuthenticationError):
        chat_client(emulator, fresh).create_chat_thread("after delete")
