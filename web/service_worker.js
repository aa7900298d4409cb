// The chat page's service worker: it wakes for a Web Push while every page of the chat may be
// closed, and shows it. A push carries the thread, the message and, unless the deployment
// sends no content, who wrote and how it begins; its tag is the thread, so a person sees one
// notification per thread, the newest. A click opens that thread: in an open page if there is
// one, else in a new one.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function describe(push) {
  const title = push.sender_display_name ? `${push.sender_display_name} wrote` : "New message";
  let body;
  if (typeof push.text !== "string") body = "Open the chat to read it.";
  else if (push.text) body = push.text;
  else if (push.files) body = push.files === 1 ? "Sent a file." : `Sent ${push.files} files.`;
  else body = "";
  return { title, body };
}

self.addEventListener("push", (event) => {
  let push = {};
  try { push = event.data ? event.data.json() : {}; } catch (e) { push = {}; }
  const { title, body } = describe(push);
  event.waitUntil(self.registration.showNotification(title, {
    body,
    tag: push.thread_id || "chat",
    renotify: true,
    data: { thread_id: push.thread_id || null, message_id: push.message_id || null },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const thread = event.notification.data && event.notification.data.thread_id;
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of open) {
      if (new URL(client.url).origin === self.location.origin) {
        client.postMessage({ open_thread: thread });
        return client.focus();
      }
    }
    const url = new URL("/", self.location.origin);
    if (thread) url.hash = "thread=" + encodeURIComponent(thread);
    return self.clients.openWindow(url.href);
  })());
});
