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
# The data fields each documented sample shows (Azure Communication Services as an Event Grid source).
DATA = {
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


@pytest.fixture
def webhook(emulator):
    hook = Webhook()
    emulator.control("POST", "/_emulator/eventgrid/subscriptions", {"endpoint": hook.url})
    yield hook
    emulator.control("DELETE", "/_emulator/eventgrid/subscriptions")
    hook.close()


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

    for _ in range(100):
        if len(webhook.deliveries) >= 7:
            break
        threading.Event().wait(0.05)
    assert all(len(delivery) == 1 for delivery in webhook.deliveries), "one event per array"
    events = [delivery[0] for delivery in webhook.deliveries]
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
        assert set(event["data"]) == DATA[event["eventType"]], event["eventType"]
        assert event["data"]["threadId"] == thread.thread_id
    received, edited, deleted = events[1:4]
    assert received["data"]["messageBody"] == "hello" and received["data"]["metadata"] == {"k": "v"}
    assert edited["data"]["messageBody"] == "hello again"
    assert received["data"]["version"] < edited["data"]["version"] < deleted["data"]["version"]
    assert received["subject"] == f"thread/{thread.thread_id}/sender/{alice.properties['id']}"
    assert events[4]["data"]["properties"] == {"topic": "renamed"}
