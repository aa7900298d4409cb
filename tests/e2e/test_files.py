"""Files through the deployed stack: the presigned requests go straight to the local S3
(ministack with AUTH=true, which verifies SigV4 presigned URLs, their lifetime and their signed
headers as S3 does, and holds each function's calls to its execution role's policy), and S3
itself refuses what the signature does not cover. No byte of a file passes through a function.

URLs here last `FILES_URL_SECONDS` (8 s), so that expiry is seen within a test.
"""

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from demo import put_file, tiny_png
from template_yaml import load_template

LIFETIME = 8
STACK_ENV = {"FILES_URL_SECONDS": str(LIFETIME)}


@pytest.fixture(scope="module")
def stack(own_deployed_stack):
    """A deployed stack of this module's own, its URLs lasting `LIFETIME` seconds."""
    return own_deployed_stack


def s3_status(url, method="GET", data=None, headers=()):
    """What S3 answers a request made with a presigned URL (and its error code, if any)."""
    request = urllib.request.Request(url, data=data, method=method)
    for name, value in headers:
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def conversation(stack):
    users = stack.create_users()
    alice = (users["user1_id"], users["user1_token"])
    bob = (users["user2_id"], users["user2_token"])
    thread = stack.call_api("create_thread", alice[1], {"user1_id": alice[0]})["thread_id"]
    stack.call_api("add_user", alice[1], {"thread_id": thread, "user2_id": bob[0]})
    return alice, bob, thread


def sign_upload(stack, who, thread, name, content_type, data):
    status, signed = stack.answer("POST", "upload_url", who[1], {
        "thread_id": thread, "user_id": who[0], "name": name, "content_type": content_type, "size": len(data)})
    assert status == 200, signed
    return signed


def uploaded(stack, who, thread, *names):
    """Signed uploads of one small PNG under each name, each sent to S3 as the page sends it."""
    data = tiny_png()
    signed = [sign_upload(stack, who, thread, name, "image/png", data) for name in names]
    for upload in signed:
        assert put_file(upload, data) == 200
    return signed


def keys(stack, thread):
    s3, bucket = stack.files
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"threads/{thread}/")
    return sorted(item["Key"].rsplit("/", 1)[1] for item in listed.get("Contents", []))


def test_alice_sends_an_image_and_a_pdf_straight_through_s3_and_bob_downloads_both(stack):
    alice, bob, thread = conversation(stack)
    image = tiny_png()
    marker = f"bytes-only-s3-sees-{uuid.uuid4().hex}"
    pdf = f"%PDF-1.7\n% {marker}\n".encode()
    signed = [sign_upload(stack, alice, thread, "venue.png", "image/png", image),
              sign_upload(stack, alice, thread, "Menu (draft).pdf", "application/pdf", pdf)]
    for upload, data in zip(signed, [image, pdf]):
        assert put_file(upload, data) == 200
    ids = [upload["attachment_id"] for upload in signed]
    stack.call_api("send_message", alice[1], {"thread_id": thread, "user_id": alice[0],
                                              "message": "The venue and the menu", "attachments": ids})

    listed = stack.call_get("get_messages", bob[1], {"thread_id": thread, "user_id": bob[0]})["messages"]
    sent = next(m for m in listed if m.get("attachments"))
    assert [(a["name"], a["content_type"], a["size"]) for a in sent["attachments"]] == [
        ("venue.png", "image/png", len(image)), ("Menu (draft).pdf", "application/pdf", len(pdf))]
    shown = stack.call_get("download_url", bob[1], {"thread_id": thread, "user_id": bob[0], "attachment_id": ids[0]})
    saved = stack.call_get("download_url", bob[1], {"thread_id": thread, "user_id": bob[0], "attachment_id": ids[1]})
    assert (shown["inline"], saved["inline"]) == (True, False)
    assert s3_status(shown["url"]) == (200, image)
    with urllib.request.urlopen(saved["url"], timeout=30) as response:
        assert response.read() == pdf
        assert response.headers["content-disposition"].startswith("attachment;"), response.headers
        assert response.headers["content-type"] == "application/octet-stream"
    # Only the metadata went through the functions and ACS.
    logged = "\n".join(stack.function_logs())
    assert marker not in logged
    assert marker not in (stack[1] / "emulator.out").read_text(errors="replace")


def test_s3_refuses_a_presigned_upload_for_another_key_a_larger_body_another_type_or_after_it_expires(stack):
    alice, _bob, thread = conversation(stack)
    data = tiny_png()
    signed = sign_upload(stack, alice, thread, "a.png", "image/png", data)
    headers = list(signed["headers"].items())
    url = signed["url"]

    other_key = url.replace(signed["attachment_id"], uuid.uuid4().hex)
    assert s3_status(other_key, "PUT", data, headers)[0] == 403
    assert s3_status(url, "PUT", data + b"more", headers)[0] == 403
    retyped = [(k, "text/html" if k == "content-type" else v) for k, v in headers]
    assert s3_status(url, "PUT", data, retyped)[0] == 403
    unsigned_tag = [(k, "state=attached" if k == "x-amz-tagging" else v) for k, v in headers]
    assert s3_status(url, "PUT", data, unsigned_tag)[0] == 403
    assert keys(stack, thread) == [], "nothing was stored"

    time.sleep(LIFETIME + 1)
    assert s3_status(url, "PUT", data, headers)[0] == 403
    assert keys(stack, thread) == []


def test_a_download_url_is_for_its_own_file_and_ends_with_its_lifetime(stack):
    alice, bob, thread = conversation(stack)
    first, second = uploaded(stack, alice, thread, "a.png", "b.png")
    link = stack.call_get("download_url", bob[1], {"thread_id": thread, "user_id": bob[0],
                                                   "attachment_id": first["attachment_id"]})
    assert s3_status(link["url"])[0] == 200
    assert s3_status(link["url"].replace(first["attachment_id"], second["attachment_id"]))[0] == 403
    time.sleep(LIFETIME + 1)
    assert s3_status(link["url"])[0] == 403


def test_an_outsider_gets_no_url_and_bob_cannot_send_alice_s_upload(stack):
    alice, bob, thread = conversation(stack)
    upload, = uploaded(stack, alice, thread, "a.png")
    outsider = stack.create_users()
    stranger = (outsider["user1_id"], outsider["user1_token"])
    status, body = stack.answer("POST", "upload_url", stranger[1], {
        "thread_id": thread, "user_id": stranger[0], "name": "x.png", "content_type": "image/png", "size": 4})
    assert (status, body["error"]["code"]) == (403, "forbidden") and "url" not in body
    status, body = stack.answer("GET", "download_url", stranger[1], query={
        "thread_id": thread, "user_id": stranger[0], "attachment_id": upload["attachment_id"]})
    assert (status, body["error"]["code"]) == (403, "forbidden") and "url" not in body
    status, body = stack.answer("POST", "send_message", bob[1], {
        "thread_id": thread, "user_id": bob[0], "message": "mine", "attachments": [upload["attachment_id"]]})
    assert (status, body["error"]["code"]) == (403, "attachment_not_yours")


def test_deleting_the_message_deletes_its_objects_and_deleting_the_thread_the_rest(stack):
    alice, _bob, thread = conversation(stack)
    sent, staged = uploaded(stack, alice, thread, "a.png", "b.png")
    message = stack.call_api("send_message", alice[1], {"thread_id": thread, "user_id": alice[0],
                                                        "attachments": [sent["attachment_id"]]})["message_id"]
    s3, bucket = stack.files
    tags = s3.get_object_tagging(Bucket=bucket, Key=f"threads/{thread}/{sent['attachment_id']}")["TagSet"]
    assert {"Key": "state", "Value": "attached"} in tags
    tags = s3.get_object_tagging(Bucket=bucket, Key=f"threads/{thread}/{staged['attachment_id']}")["TagSet"]
    assert tags == [{"Key": "state", "Value": "staged"}]
    # The bucket the template made removes what is still staged after a day, and answers the
    # page's origin alone.
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    staged_rule = next(r for r in rules if r["ID"] == "staged-uploads")
    assert staged_rule["Filter"] == {"Tag": {"Key": "state", "Value": "staged"}}, staged_rule
    assert staged_rule["Expiration"]["Days"] == 1 and staged_rule["Status"] == "Enabled"
    cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert [rule["AllowedOrigins"] for rule in cors] == [[stack[0]]], cors
    assert keys(stack, thread) == sorted([sent["attachment_id"], staged["attachment_id"]])

    stack.call_api("delete_message", alice[1], {"thread_id": thread, "user_id": alice[0], "message_id": message})
    assert keys(stack, thread) == [staged["attachment_id"]]
    stack.call_api("delete_thread", alice[1], {"thread_id": thread, "user_id": alice[0]})
    assert keys(stack, thread) == []


def test_the_template_s_tls_only_policy_refuses_every_plain_http_request(stack):
    """The local stack deploys without it (FilesTlsOnly=false), as ministack serves plain HTTP
    and evaluates `aws:SecureTransport` as S3 does: so it is put on the bucket here, and taken
    off again."""
    template = load_template()
    document = template["Resources"]["FilesBucketPolicy"]["Properties"]["PolicyDocument"]
    s3, bucket = stack.files
    arn = f"arn:aws:s3:::{bucket}"
    for statement in document["Statement"]:
        statement["Resource"] = [arn, f"{arn}/*"]
    alice, _bob, thread = conversation(stack)
    data = tiny_png()
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
    try:
        refused = sign_upload(stack, alice, thread, "a.png", "image/png", data)
        assert s3_status(refused["url"], "PUT", data, list(refused["headers"].items()))[0] == 403
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
    assert uploaded(stack, alice, thread, "b.png")
