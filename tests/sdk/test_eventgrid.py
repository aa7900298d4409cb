"""The emulator's Event Grid deliveries, held against what Azure documents: the event type
names of the official `azure-eventgrid` package, the Event Grid schema's envelope, and the
data fields of each ACS chat event's documented sample. The changes are made with the official
chat SDK, as a client of real ACS would make them.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from azure.communication.chat import ChatClient, ChatParticipant, CommunicationTokenCredential
from azure.communication.identity import CommunicationIdentityClient
from azure.eventgrid import SystemEventNames

ENVELOPE = {"id", "topic", "subject", "eventType", "eventTime", "data", "dataVersion", "metadataVersion"}
# The data fields each documented sample shows (Azure Communication Services as an Event Grid
# source), thread-level events first.
THREAD_DATA = {
    "Microsoft.Communication.ChatMessageReceivedInThread": {
        "messageBody", "messageId", "senderCommunicationIdentifier", "senderDisplayName", "composeTime",
        "type", "version", "transactionId", "threadId", "metadata"},
    "Microsoft.Communication.ChatMessageEditedInThread": {
        "editTime", "messageBody", "messageId", "senderCommunicationIdentifier", "senderDisplayName",
        "composeTime", "type", "version", "transactionId", "threadId", "metadata"},
    "Microsoft.Communication.ChatMessageDeletedInThread": {
        "deleteTime", "messageId", "senderCommunicationIdentifier", "senderDisplayName", "composeTime",
        "type", "version", "transactionId", "threadId"},
    "Microsoft.Communication.ChatThreadParticipantAdded": {
        "time", "addedByCommunicationIdentifier", "participantAdded", "createTime", "version",
        "transactionId", "threadId"},
    "Microsoft.Communication.ChatThreadParticipantRemoved": {
        "time", "removedByCommunicationIdentifier", "participantRemoved", "createTime", "version",
        "transactionId", "threadId"},
    "Microsoft.Communication.ChatThreadPropertiesUpdated": {
        "editedByCommunicationIdentifier", "editTime", "properties", "metadata", "createTime", "version",
        "transactionId", "threadId"},
    "Microsoft.Communication.ChatThreadDeleted": {
        "deletedByCommunicationIdentifier", "deleteTime", "createTime", "version", "transactionId", "threadId"},
}
# User-level events: one for each participant but the one who made the change, each naming its
# recipient; the samples also carry the older plain-id fields (senderId, recipientId, ...).
RECIPIENT = {"recipientCommunicationIdentifier"}
USER_DATA = {
    "Microsoft.Communication.ChatMessageReceived": {
        "messageBody", "messageId", "metadata", "senderId", "senderCommunicationIdentifier", "senderDisplayName",
        "composeTime", "type", "version", "recipientId", "transactionId", "threadId"} | RECIPIENT,
    "Microsoft.Communication.ChatMessageEdited": {
        "editTime", "messageBody", "messageId", "metadata", "senderId", "senderCommunicationIdentifier",
        "senderDisplayName", "composeTime", "type", "version", "recipientId", "transactionId",
        "threadId"} | RECIPIENT,
    "Microsoft.Communication.ChatMessageDeleted": {
        "deleteTime", "messageId", "senderId", "senderCommunicationIdentifier", "senderDisplayName", "composeTime",
        "type", "version", "recipientId", "transactionId", "threadId"} | RECIPIENT,
    "Microsoft.Communication.ChatThreadCreatedWithUser": {
        "createdBy", "createdByCommunicationIdentifier", "properties", "members", "participants", "createTime", "version",
        "recipientId", "transactionId", "threadId"} | RECIPIENT,
    "Microsoft.Communication.ChatThreadWithUserDeleted": {
        "deletedBy", "deletedByCommunicationIdentifier", "deleteTime", "createTime", "version", "recipientId",
        "transactionId", "threadId"} | RECIPIENT,
    "Microsoft.Communication.ChatParticipantAddedToThreadWithUser": {
        "time", "addedByCommunicationIdentifier", "participantAdded", "createTime", "version", "transactionId",
        "threadId"} | RECIPIENT,
    "Microsoft.Communication.ChatParticipantRemovedFromThreadWithUser": {
        "time", "removedByCommunicationIdentifier", "participantRemoved", "createTime", "version",
        "transactionId", "threadId"} | RECIPIENT,
    "Microsoft.Communication.ChatThreadPropertiesUpdatedPerUser": {
        "editedBy", "editedByCommunicationIdentifier", "editTime", "properties", "createTime",
        "version", "recipientId", "transactionId", "threadId"} | RECIPIENT,
}


class Webhook:
    """A webhook that passes the validation handshake and keeps every delivery."""

    def __init__(self):
        self.deliveries, self.validated = [], threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                answer = b""
                if self.headers.get("aeg-event-type") == "SubscriptionValidation":
                    answer = json.dumps({"validationResponse": body[0]["data"]["validationCode"]}).encode()
                    hook.validated.set()
                else:
                    hook.deliveries.append(body)
                self.send_response(200)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()


def subscribed(emulator, event_types):
    hook = Webhook()
    emulator.control("POST", "/_emulator/eventgrid/subscriptions",
                     {"endpoint": hook.url, "includedEventTypes": sorted(event_types)})
    return hook


@pytest.fixture
def webhook(emulator):
    hook = subscribed(emulator, THREAD_DATA)
    yield hook
    emulator.control("DELETE", "/_emulator/eventgrid/subscriptions")
    hook.close()


@pytest.fixture
def user_webhook(emulator):
    hook = subscribed(emulator, USER_DATA)
    yield hook
    emulator.control("DELETE", "/_emulator/eventgrid/subscriptions")
    hook.close()


def deliveries(hook, count):
    for _ in range(100):
        if len(hook.deliveries) >= count:
            break
        threading.Event().wait(0.05)
    threading.Event().wait(0.2)
    assert all(len(delivery) == 1 for delivery in hook.deliveries), "one event per array"
    return [delivery[0] for delivery in hook.deliveries]


def test_every_change_made_through_the_sdk_is_delivered_as_azure_documents_it(emulator, webhook):
    assert webhook.validated.is_set(), "the subscription was made only after the handshake"
    identity = CommunicationIdentityClient.from_connection_string(emulator.connection_string)
    (alice, alice_token), (bob, _) = [
        (user, token.token) for user, token in (identity.create_user_and_token(["chat"]) for _ in range(2))]
    chat = ChatClient(emulator.endpoint, CommunicationTokenCredential(alice_token))
    thread = chat.get_chat_thread_client(chat.create_chat_thread("events").chat_thread.id)
    thread.add_participants([ChatParticipant(identifier=bob, display_name="Bob")])
    message = thread.send_message("hello", sender_display_name="Alice", metadata={"k": "v"}).id
    thread.update_message(message, content="hello again")
    thread.delete_message(message)
    thread.update_topic("renamed")
    thread.remove_participant(bob)
    chat.delete_chat_thread(thread.thread_id)

    events = deliveries(webhook, 7)
    documented = {name.value for name in SystemEventNames}
    assert [e["eventType"] for e in events] == [
        "Microsoft.Communication.ChatThreadParticipantAdded",
        "Microsoft.Communication.ChatMessageReceivedInThread",
        "Microsoft.Communication.ChatMessageEditedInThread",
        "Microsoft.Communication.ChatMessageDeletedInThread",
        "Microsoft.Communication.ChatThreadPropertiesUpdated",
        "Microsoft.Communication.ChatThreadParticipantRemoved",
        "Microsoft.Communication.ChatThreadDeleted",
    ]
    for event in events:
        assert event["eventType"] in documented, event["eventType"]
        assert set(event) == ENVELOPE, event
        assert set(event["data"]) == THREAD_DATA[event["eventType"]], event["eventType"]
        assert event["data"]["threadId"] == thread.thread_id
    received, edited, deleted = events[1:4]
    assert received["data"]["messageBody"] == "hello" and received["data"]["metadata"] == {"k": "v"}
    assert edited["data"]["messageBody"] == "hello again"
    assert received["data"]["version"] < edited["data"]["version"] < deleted["data"]["version"]
    assert received["subject"] == f"thread/{thread.thread_id}/sender/{alice.properties['id']}"
    assert events[4]["data"]["properties"] == {"topic": "renamed"}


def test_each_change_reaches_every_participant_but_its_maker_as_a_user_level_event(emulator, user_webhook):
    identity = CommunicationIdentityClient.from_connection_string(emulator.connection_string)
    (alice, alice_token), (bob, _), (carol, _) = [
        (user, token.token) for user, token in (identity.create_user_and_token(["chat"]) for _ in range(3))]
    alice_id, bob_id, carol_id = (u.properties["id"] for u in (alice, bob, carol))
    chat = ChatClient(emulator.endpoint, CommunicationTokenCredential(alice_token))
    created = chat.create_chat_thread("per person", thread_participants=[
        ChatParticipant(identifier=alice, display_name="Alice"),
        ChatParticipant(identifier=bob, display_name="Bob")])
    thread = chat.get_chat_thread_client(created.chat_thread.id)
    thread.add_participants([ChatParticipant(identifier=carol, display_name="Carol")])
    message = thread.send_message("hello", sender_display_name="Alice").id
    thread.update_message(message, content="hello again")
    thread.delete_message(message)
    thread.update_topic("renamed")
    thread.remove_participant(carol)
    chat.delete_chat_thread(thread.thread_id)

    events = deliveries(user_webhook, 14)
    documented = {name.value for name in SystemEventNames}
    heard = {}
    for event in events:
        kind = event["eventType"]
        assert kind in documented, kind
        assert set(event) == ENVELOPE, event
        assert set(event["data"]) == USER_DATA[kind], (kind, set(event["data"]) ^ USER_DATA[kind])
        assert event["data"]["threadId"] == thread.thread_id
        recipient = event["data"]["recipientCommunicationIdentifier"]["rawId"]
        assert event["subject"].endswith(f"/recipient/{recipient}"), event["subject"]
        heard.setdefault(kind.rsplit(".", 1)[1], []).append(recipient)
    assert {kind: sorted(who) for kind, who in heard.items()} == {
        "ChatThreadCreatedWithUser": sorted([bob_id]),
        "ChatParticipantAddedToThreadWithUser": sorted([bob_id, carol_id]),
        "ChatMessageReceived": sorted([bob_id, carol_id]),
        "ChatMessageEdited": sorted([bob_id, carol_id]),
        "ChatMessageDeleted": sorted([bob_id, carol_id]),
        "ChatThreadPropertiesUpdatedPerUser": sorted([bob_id, carol_id]),
        # The one removed hears of it too: that is how their devices learn they are out.
        "ChatParticipantRemovedFromThreadWithUser": sorted([bob_id, carol_id]),
        "ChatThreadWithUserDeleted": sorted([bob_id]),
    }, heard
    assert alice_id not in sum(heard.values(), []), "no one hears of their own change"
