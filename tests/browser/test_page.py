"""The chat page as a person uses it: headless Chromium (Debian's package) against the local
stack, at a phone's width and a desktop's.

Screenshots go to $PAGE_SCREENSHOTS (a temporary folder unless set; `bash scripts/screenshots`
sets it to docs/ to refresh the page's pictures in docs/page.md).
"""

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

SHOTS = Path(os.environ.get("PAGE_SCREENSHOTS") or tempfile.mkdtemp(prefix="page-shots-"))
WAIT = 20_000  # ms: polling backs off to 10 s when nothing happens
XSS = "<img src=x onerror=alert(1)>"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 860)}


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.fail("chromium is not installed: scripts/test installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()


class Watched:
    """A page with its console errors and dialogs collected."""

    def __init__(self, browser, width, realtime=True):
        self.context = browser.new_context(viewport=dict(zip(("width", "height"), WIDTHS[width])))
        self.page = self.context.new_page()
        if not realtime:
            # The real-time channel unreachable: the page must fall back to polling.
            self.page.route_web_socket("**/event/realtime", lambda socket: socket.close())
        self.errors, self.dialogs = [], []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def pane(self, person):
        return self.page.locator(f'section[data-person="{person}"]')

    def unexpected_errors(self, allowed=()):
        return [e for e in self.errors if not any(a in e for a in allowed)]

    def close(self):
        self.context.close()


def start_conversation(watched, base):
    watched.page.goto(base + "/")
    watched.page.get_by_role("button", name="Start a conversation between two people").click()
    expect(watched.page.locator("#status")).to_contain_text("Alice and Bob are in a new thread", timeout=WAIT)
    return watched.pane("Alice"), watched.pane("Bob")


def send(pane, text):
    pane.get_by_label("Message", exact=True).fill(text)
    pane.get_by_role("button", name="Send").click()


def texts(pane):
    return pane.locator(".messages li .text")


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_two_people_chat_edit_delete_rename_and_leave(stack, browser, width):
    watched = Watched(browser, width)
    alice, bob = start_conversation(watched, stack[0])

    send(alice, "Hello Bob")
    expect(texts(bob)).to_have_text(["Hello Bob"], timeout=WAIT)
    send(bob, "Hi Alice! Lunch?")
    expect(texts(alice)).to_have_text(["Hello Bob", "Hi Alice! Lunch?"], timeout=WAIT)
    expect(alice.locator(".messages li").nth(1).locator("strong")).to_have_text("Bob")

    alice.get_by_role("button", name="Edit your message: Hello Bob").click()
    alice.get_by_label("Edit message").fill("Hello, Bob!")
    alice.get_by_role("button", name="Save").click()
    expect(texts(bob).first).to_have_text("Hello, Bob!", timeout=WAIT)
    expect(bob.locator(".messages li").first).to_contain_text("(edited)")

    send(alice, XSS)
    expect(texts(bob).last).to_have_text(XSS, timeout=WAIT)
    assert bob.locator(".messages img").count() == 0, "markup is shown as text"

    bob.get_by_role("button", name="Delete your message: Hi Alice! Lunch?").click()
    expect(texts(alice)).to_have_text(["Hello, Bob!", XSS], timeout=WAIT)

    bob.get_by_label("Thread name").fill("Lunch plans")
    bob.get_by_role("button", name="Rename").click()
    expect(bob.locator(".topic")).to_have_text("· Lunch plans", timeout=WAIT)
    expect(alice.locator(".topic")).to_have_text("· Lunch plans", timeout=WAIT)
    expect(alice.get_by_role("combobox")).to_be_hidden()
    watched.page.screenshot(path=str(SHOTS / f"page-{width}.png"), full_page=True)

    bob.get_by_role("button", name="Leave this thread").click()
    expect(bob.locator(".notice")).to_have_text("You left this thread.", timeout=WAIT)
    send(alice, "Still there?")
    expect(texts(alice).last).to_have_text("Still there?", timeout=WAIT)

    assert not watched.dialogs, watched.dialogs
    assert not watched.unexpected_errors(), watched.errors
    watched.close()


def test_the_page_works_from_the_keyboard_alone(stack, browser):
    watched = Watched(browser, "desktop")
    page = watched.page
    page.goto(stack[0] + "/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Start a conversation between two people")).to_be_focused()
    page.keyboard.press("Enter")
    alice, bob = watched.pane("Alice"), watched.pane("Bob")
    expect(alice.get_by_label("Message", exact=True)).to_be_focused(timeout=WAIT)
    page.keyboard.type("typed, not clicked")
    page.keyboard.press("Enter")
    expect(texts(bob)).to_have_text(["typed, not clicked"], timeout=WAIT)
    for control in page.locator("input, textarea, select").all():
        # A label element, or for the file picker the Attach button opens, a name of its own.
        label = control.evaluate(
            "e => e.labels && e.labels.length ? e.labels[0].textContent.trim() : (e.getAttribute('aria-label') || '')")
        assert label, control.evaluate("e => e.outerHTML")
    assert not watched.unexpected_errors(), watched.errors
    watched.close()


def test_without_the_real_time_channel_a_throttled_api_slows_the_polling_and_the_page_carries_on(stack, browser):
    watched = Watched(browser, "desktop", realtime=False)
    alice, bob = start_conversation(watched, stack[0])
    expect(bob).not_to_have_attribute("data-realtime", "on")
    send(alice, "before the 429")
    expect(texts(bob)).to_have_text(["before the 429"], timeout=WAIT)
    # Bob's reads only: Alice's page and her send carry on, so what Bob misses is his to catch up.
    stack.emulator("POST", "/_emulator/faults", {
        "kind": "status", "status": 429, "retry_after": 12, "count": 2,
        "route": "GET /chat/threads/{threadId}/messages", "caller": bob.get_attribute("data-user-id"),
    })
    expect(bob.get_by_role("alert")).to_contain_text("The service is busy; trying again in 12 s", timeout=WAIT)
    assert int(bob.get_attribute("data-poll-delay")) >= 12_000, "polling waits out Retry-After"
    send(alice, "after the 429")
    expect(texts(bob)).to_have_text(["before the 429", "after the 429"], timeout=40_000)
    expect(bob.get_by_role("alert")).to_have_text("", timeout=WAIT)
    assert bob.get_attribute("data-realtime") != "on", "all of it came by polling"
    # Chrome reports each 429 answer on the console itself; anything else is a fault.
    assert not watched.unexpected_errors(allowed=["status of 429"]), watched.errors
    watched.close()


def test_one_person_signs_in_picks_a_thread_and_the_token_is_refreshed_before_it_expires(stack, browser):
    users = stack.create_users()
    from_alice = {"user1_id": users["user1_id"], "topic": "Found again"}
    thread = stack.call_api("create_thread", users["user1_token"], from_alice)["thread_id"]
    # A token with 4 minutes left: inside the page's 5-minute margin, so it refreshes at once.
    short = stack.seal(stack.emulator("POST", "/_emulator/tokens", {"userId": users["user1_id"], "expiresInSeconds": 240})["token"])
    watched = Watched(browser, "phone")
    page = watched.page
    page.goto(stack[0] + "/")
    page.get_by_label("Your user id").fill(users["user1_id"])
    page.get_by_label("Your token").fill(short)
    page.get_by_label("Your name").fill("Alice")
    page.get_by_label("Your session").fill(users["user1_session"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    me = watched.pane("Alice")
    expect(me).to_have_attribute("data-token-refreshes", "1", timeout=WAIT)
    expect(me.get_by_role("combobox")).to_contain_text("Found again", timeout=WAIT)
    me.get_by_role("button", name="Open").click()
    expect(me.locator(".topic")).to_have_text("· Found again")
    send(me, "back again")
    expect(texts(me)).to_have_text(["back again"], timeout=WAIT)
    for secret in (short, users["user1_token"], users["user1_session"]):
        assert secret not in page.url
    assert not watched.unexpected_errors(), watched.errors
    watched.close()


def test_with_the_real_time_channel_typing_and_messages_arrive_pushed_not_polled(stack, browser):
    watched = Watched(browser, "desktop")
    alice, bob = start_conversation(watched, stack[0])
    for pane in (alice, bob):
        expect(pane).to_have_attribute("data-realtime", "on", timeout=WAIT)
    # Subscribed and caught up: Bob's next poll is a minute away, so what he sees sooner was pushed.
    expect(bob).to_have_attribute("data-poll-delay", "60000", timeout=WAIT)
    alice.get_by_label("Message", exact=True).press_sequentially("Hel")
    expect(bob.locator(".typing")).to_have_text("Alice is typing…", timeout=5_000)
    send(alice, "pushed, not polled")
    expect(texts(bob)).to_have_text(["pushed, not polled"], timeout=5_000)
    expect(bob.locator(".typing")).to_have_text("")
    assert int(bob.get_attribute("data-pushed")) >= 1
    watched.page.screenshot(path=str(SHOTS / "page-realtime.png"), full_page=True)
    assert not watched.unexpected_errors(), watched.errors
    watched.close()


def sign_in_with_account(page, base, username, password):
    page.goto(base + "/")
    form = page.get_by_role("form", name="Sign in with your account")
    form.get_by_label("User name").fill(username)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in with password").click()
    expect(page.locator("#status")).to_contain_text(f"Signed in as {username.capitalize()}", timeout=WAIT)


def alice_id(page):
    return page.locator("#app section.pane").get_attribute("data-user-id")


def alice_token(page):
    """The person's ACS token, as the page holds it (in memory only)."""
    return page.evaluate("people[people.length - 1].token")


def test_a_person_signs_in_starts_a_conversation_and_after_a_reload_and_a_second_sign_in_has_the_same_threads(
        stack, browser):
    base = stack[0]
    bob = stack.sign_in("bob", "Bob-local-1")
    # Someone who has never signed in, so that her inbox starts empty on a stack others use.
    alice, password = stack.new_account("alice")
    watched = Watched(browser, "desktop")
    page = watched.page
    sign_in_with_account(page, base, alice, password)
    inbox = page.get_by_role("navigation", name="Your threads")
    expect(inbox).to_contain_text("No conversations yet.", timeout=WAIT)
    expect(page.get_by_role("button", name="Start a conversation between two people")).to_be_hidden()

    new = page.get_by_role("form", name="New conversation")
    new.get_by_label("Topic").fill("Weekend plans")
    new.get_by_label("Add people by user id").fill(bob["user_id"])
    new.get_by_role("button", name="Start conversation").click()
    plans = inbox.get_by_role("button", name=re.compile("^Weekend plans"))
    expect(plans).to_have_attribute("aria-current", "true", timeout=WAIT)
    conversation = page.locator("#app section.pane")
    send(conversation, "Saturday?")
    expect(texts(conversation)).to_have_text(["Saturday?"], timeout=WAIT)
    thread = inbox.locator("li").first.get_attribute("data-thread-id")
    # Bob answers from his own device.
    stack.call_api("send_message", bob["token"], {"thread_id": thread, "user_id": bob["user_id"],
                                                   "message": "Sure, where?", "display_name": "Bob"})
    expect(texts(conversation)).to_have_text(["Saturday?", "Sure, where?"], timeout=WAIT)
    page.screenshot(path=str(SHOTS / f"signed-in-{stack.kind}-desktop.png"))
    box = {name: locator.bounding_box() for name, locator in (("inbox", inbox), ("conversation", conversation))}
    assert box["inbox"]["x"] + box["inbox"]["width"] <= box["conversation"]["x"], "threads left, conversation right"

    # The page forgets everything on a reload; signing in again brings the same person back.
    page.reload()
    expect(inbox).to_be_hidden()
    sign_in_with_account(page, base, alice, password)
    row = inbox.locator("li").first
    expect(inbox.locator("li")).to_have_count(1, timeout=WAIT)
    expect(row).to_have_attribute("data-unread", "0", timeout=WAIT)
    expect(row).to_contain_text("Sure, where?")

    # Bob writes while Alice has no thread open: her badge and the page's title say so, live.
    stack.call_api("send_message", bob["token"], {"thread_id": thread, "user_id": bob["user_id"],
                                                   "message": "The usual place?"})
    expect(row).to_have_attribute("data-unread", "1", timeout=WAIT)
    expect(row.locator(".badge")).to_have_text("1")
    expect(page).to_have_title("(1) acs-chat-api")
    page.screenshot(path=str(SHOTS / f"signed-in-{stack.kind}-unread.png"))
    # She reads it on her phone: her laptop's badge and title clear, pushed, not polled (with
    # the channel up, the inbox reads again only every minute).
    expect(inbox).to_have_attribute("data-refresh-delay", "60000", timeout=WAIT)
    token, me = alice_token(page), page.evaluate("people[people.length - 1].id")
    newest = stack.call_get("list_threads", token, {"user_id": me})["threads"][0]["last_message"]["sequence_id"]
    stack.call_api("mark_read", token, {"thread_id": thread, "user_id": me, "sequence_id": newest})
    expect(row).to_have_attribute("data-unread", "0", timeout=WAIT)
    expect(page).to_have_title("acs-chat-api")
    plans.click()
    expect(texts(conversation)).to_have_text(["Saturday?", "Sure, where?", "The usual place?"], timeout=WAIT)
    expect(conversation.locator(".messages li").first).to_contain_text("You")
    expect(row).to_have_attribute("data-unread", "0", timeout=WAIT)
    expect(page).to_have_title("acs-chat-api")
    # Her phone's inbox, from the API: read there too.
    listed = stack.call_get("list_threads", alice_token(page), {"user_id": alice_id(page)})
    assert (listed["unread_total"], listed["threads"][0]["unread_count"]) == (0, 0), listed

    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["phone"])))
    page.screenshot(path=str(SHOTS / f"signed-in-{stack.kind}-phone.png"), full_page=True)
    box = {name: locator.bounding_box() for name, locator in (("inbox", inbox), ("conversation", conversation))}
    assert box["inbox"]["y"] + box["inbox"]["height"] <= box["conversation"]["y"], "one column on a phone"

    wrong = Watched(browser, "phone")
    wrong.page.goto(base + "/")
    form = wrong.page.get_by_role("form", name="Sign in with your account")
    form.get_by_label("User name").fill(alice)
    form.get_by_label("Password").fill("not-her-password")
    form.get_by_role("button", name="Sign in with password").click()
    expect(wrong.page.locator("#status")).to_contain_text("did not sign you in", timeout=WAIT)
    expect(wrong.page.get_by_role("navigation", name="Your threads")).to_be_hidden()
    assert watched.unexpected_errors() == [] and wrong.unexpected_errors(["401", "400"]) == []
    wrong.close()
    watched.close()


def png(width, height, rgb):
    """A PNG of one colour, made here so the tests carry no binary file."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_alice_attaches_an_image_and_drops_a_pdf_and_bob_sees_the_image_and_downloads_the_pdf(stack, browser):
    watched = Watched(browser, "desktop")
    alice, bob = start_conversation(watched, stack[0])
    page = watched.page
    picture = png(96, 64, (31, 95, 191))
    pdf = b"%PDF-1.7\n% the menu\n"

    # A file of a kind the chat does not take is refused in words, before any upload.
    alice.locator(".file-input").set_input_files([{"name": "page.html", "mimeType": "text/html", "buffer": b"<p>x"}])
    refused = alice.locator(".pending li.failed")
    expect(refused).to_contain_text("page.html is not a kind of file this chat takes")
    # A rename that works clears the pane's own error line, and leaves the refusal standing.
    alice.get_by_label("Thread name").fill("Venue")
    alice.get_by_role("button", name="Rename").click()
    expect(alice.locator(".topic")).to_have_text("· Venue", timeout=WAIT)
    expect(refused).to_contain_text("page.html is not a kind of file this chat takes")
    alice.get_by_role("button", name="Remove page.html").click()

    alice.get_by_role("button", name="Attach files").click()
    alice.locator(".file-input").set_input_files([{"name": "venue.png", "mimeType": "image/png", "buffer": picture}])
    # The PDF arrives by drag and drop.
    drop = page.evaluate_handle(
        """([bytes]) => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array(bytes)], "Menu.pdf", { type: "application/pdf" }));
            return data;
        }""", [list(pdf)])
    alice.dispatch_event("drop", {"dataTransfer": drop})
    expect(alice.locator(".pending li")).to_have_count(2)
    expect(alice.locator(".pending li", has_text="ready to send")).to_have_count(2, timeout=WAIT)
    page.screenshot(path=str(SHOTS / f"files-ready-{stack.kind}.png"))
    alice.get_by_label("Message", exact=True).fill("The venue, and the menu")
    alice.get_by_role("button", name="Send").click()
    expect(alice.locator(".pending li")).to_have_count(0, timeout=WAIT)

    message = bob.locator(".messages > li", has_text="The venue, and the menu")
    image = message.get_by_role("img", name="venue.png")
    expect(image).to_be_visible(timeout=WAIT)
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 96", arg=image.element_handle(), timeout=WAIT)
    link = message.get_by_role("link", name=re.compile(r"^Menu\.pdf \(\d+ B\)$"))
    expect(link).to_be_visible()
    page.screenshot(path=str(SHOTS / f"files-{stack.kind}.png"), full_page=True)
    with page.expect_download(timeout=WAIT) as download:
        link.click()
    saved = download.value
    assert saved.suggested_filename == "Menu.pdf"
    assert Path(saved.path()).read_bytes() == pdf
    # The image came from the bucket, not from the API's origin.
    assert image.get_attribute("src").startswith(("http://127.0.0.1", "https://")), image.get_attribute("src")
    assert "X-Amz-Signature=" in image.get_attribute("src")
    assert not watched.dialogs, watched.dialogs
    assert not watched.unexpected_errors(), watched.errors
    watched.close()


# Headless Chromium subscribes only through its own push service (Google's), out of reach
# offline and unable to reach the stand-in. So `pushManager.subscribe` answers here with a
# subscription made at the stand-in for the key the page asks with, and what a push service
# would hand the browser is handed to the page's real service worker through DevTools.
FAKE_PUSH_MANAGER = """
(() => {
  const made = %s;
  window.__pushKeysAsked = [];
  PushManager.prototype.subscribe = async function (options) {
    const key = btoa(String.fromCharCode(...new Uint8Array(options.applicationServerKey)))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    window.__pushKeysAsked.push({ key, userVisibleOnly: options.userVisibleOnly });
    return { endpoint: made.endpoint, toJSON: () => made, unsubscribe: async () => true };
  };
  PushManager.prototype.getSubscription = async function () { return null; };
})();
"""


def test_bob_asks_for_notifications_closes_the_page_and_alice_s_message_reaches_his_browser_and_is_shown(stack, browser):
    base = stack[0]
    alice = stack.sign_in("alice", "Alice-local-1")
    device, subscription = stack.push_device()
    context = browser.new_context(viewport=dict(zip(("width", "height"), WIDTHS["desktop"])))
    context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(subscription))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in_with_account(page, base, "bob", "Bob-local-1")
    bob_id = page.locator("#app section.pane").get_attribute("data-user-id")
    inbox = page.get_by_role("navigation", name="Your threads")
    notify = inbox.get_by_role("button", name="Notify me")
    expect(notify).to_be_visible(timeout=WAIT)
    assert page.evaluate("Notification.permission") == "default", "nothing is asked before the press"
    context.grant_permissions(["notifications"], origin=base)
    notify.click()
    expect(inbox.locator(".notify-state")).to_contain_text("You will be notified", timeout=WAIT)
    expect(inbox.get_by_role("button", name="Stop notifications")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__pushKeysAsked") == [{"key": stack.push_public_key, "userVisibleOnly": True}]
    assert page.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => !!(r && r.active))")
    page.screenshot(path=str(SHOTS / f"push-{stack.kind}-on.png"))
    page.close()

    # Every page of the chat closed: Alice writes to Bob.
    # Named in the thread as the page names its maker: a push names the sender as the thread does.
    thread = stack.call_api("create_thread", alice["token"], {"user1_id": alice["user_id"], "topic": "Tonight",
                                                              "display_name": "Alice"})["thread_id"]
    stack.call_api("add_user", alice["token"], {"thread_id": thread, "user2_id": bob_id})
    stack.call_api("send_message", alice["token"], {"thread_id": thread, "user_id": alice["user_id"],
                                                     "message": "Dinner at eight?", "display_name": "Alice"})
    state = stack.pushes(device, 1)
    assert [push["payload"]["text"] for push in state["received"]] == ["Dinner at eight?"], state
    payload = state["received"][0]["payload"]

    # What the push service hands the browser wakes the page's service worker, which shows it.
    blank = context.new_page()
    cdp = context.new_cdp_session(blank)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        blank.wait_for_timeout(100)
    (registration,) = [r for r in registrations if r["scopeURL"] == base + "/" and not r.get("isDeleted")]
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": base, "registrationId": registration["registrationId"], "data": json.dumps(payload)})
    shown = context.new_page()
    shown.goto(base + "/")
    notifications = []
    while not notifications and time.monotonic() < deadline + 10:
        notifications = shown.evaluate(
            "navigator.serviceWorker.getRegistration('/').then((r) => r.getNotifications())"
            ".then((all) => all.map((n) => ({title: n.title, body: n.body, tag: n.tag})))")
        shown.wait_for_timeout(200)
    assert notifications == [{"title": "Alice wrote", "body": "Dinner at eight?", "tag": thread}], notifications
    assert errors == []
    context.close()
