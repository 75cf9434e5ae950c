/** Server-rendered HTML pages. Every dynamic value goes through escapeHtml. */
import type { StoredMessage } from "../db";

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function layout(title: string, servedBy: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}textarea{width:100%;min-height:6rem}.served{color:#666;font-size:.9rem}
nav a{margin-right:1rem}.error{color:#a00}
</style>
</head>
<body>
<nav><a href="/">Send a message</a><a href="/admin">Stored messages</a></nav>
<p class="served">Served by <strong id="served-by">${escapeHtml(servedBy)}</strong></p>
${content}
</body>
</html>
`;
}

export function renderFormPage(servedBy: string, idempotencyKey: string, maxChars: number): string {
  return layout(
    "Send a message",
    servedBy,
    `<h1>Send a message</h1>
<form method="post" action="/messages">
<input type="hidden" name="idempotency_key" value="${escapeHtml(idempotencyKey)}">
<label for="body">Message</label>
<textarea id="body" name="body" required maxlength="${maxChars}"></textarea>
<p><button type="submit">Send</button></p>
</form>`,
  );
}

export function renderAcceptedPage(servedBy: string, messageUid: string): string {
  return layout(
    "Message accepted",
    servedBy,
    `<h1>Message accepted</h1>
<p>Kafka acknowledged message <code id="message-uid">${escapeHtml(messageUid)}</code>.
It appears on the <a href="/admin">admin page</a> once a consumer has stored it.</p>
<p><a href="/">Send another</a></p>`,
  );
}

export function renderErrorPage(servedBy: string, status: number, errors: string[]): string {
  const items = errors.map((e) => `<li>${escapeHtml(e)}</li>`).join("");
  return layout(
    "Message rejected",
    servedBy,
    `<h1 class="error">Message rejected (${status})</h1><ul class="error">${items}</ul>
<p><a href="/">Back to the form</a></p>`,
  );
}

export function renderAdminPage(
  servedBy: string,
  data: { total: number; page: number; pageSize: number; messages: StoredMessage[] },
): string {
  const rows = data.messages
    .map(
      (m) => `<tr><td><code>${escapeHtml(m.message_uid)}</code></td><td>${escapeHtml(m.body)}</td>
<td>${escapeHtml(m.produced_by)}</td><td>${escapeHtml(m.produced_at)}</td>
<td>${escapeHtml(m.stored_by)}</td><td>${escapeHtml(m.stored_at)}</td></tr>`,
    )
    .join("\n");
  const pages = Math.max(1, Math.ceil(data.total / data.pageSize));
  const prev = data.page > 1 ? `<a href="/admin?page=${data.page - 1}">&larr; newer</a>` : "";
  const next = data.page < pages ? `<a href="/admin?page=${data.page + 1}">older &rarr;</a>` : "";
  return layout(
    "Stored messages",
    servedBy,
    `<h1>Stored messages</h1>
<p>${data.total} stored, newest first. Page ${data.page} of ${pages}.</p>
<table>
<thead><tr><th>message_uid</th><th>body</th><th>produced by</th><th>produced at</th><th>stored by</th><th>stored at</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>${prev} ${next}</p>`,
  );
}
