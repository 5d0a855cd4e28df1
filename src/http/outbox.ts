/**
 * A local view of the email outbox: `/outbox` lists the workspace's rendered messages and
 * `/outbox/<id>` shows one. It exists for local development with the `outbox` provider, so it
 * answers only on a loopback host (anything else gets the same 404 as an unknown path), and it
 * needs an API key (bearer header or `?key=`), showing only that key's workspace.
 */
import { type Context, Hono } from "hono";
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { resolveApiKey } from "../platform/auth/api-keys";
import { loadPrincipal } from "../platform/auth/load";
import type { Principal } from "../platform/auth/principal";
import { findOutboxMessage, listOutboxMessages } from "./queries";

/** `GET /outbox` and `GET /outbox/:id`. */
export const outboxRoutes = new Hono<{ Bindings: Env }>();

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const PAGE_SIZE = 50;

type OutboxContext = Context<{ Bindings: Env }>;

/** The caller of a loopback request with a valid key, or the response to send instead. */
async function authorize(c: OutboxContext): Promise<{ principal: Principal; keyQuery: string } | Response> {
  if (!LOOPBACK_HOSTS.has(new URL(c.req.url).hostname)) return c.notFound();
  const header = c.req.header("Authorization");
  const queryKey = c.req.query("key");
  const key = header?.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : queryKey;
  const props = key ? await resolveApiKey(c.env, key) : null;
  const principal = props ? await loadPrincipal(c.env, props) : null;
  if (!principal) {
    return page(
      "Outbox",
      html`<p>This page needs an API key of the workspace: open <code>/outbox?key=&lt;your key&gt;</code> or send <code>Authorization: Bearer &lt;your key&gt;</code>.</p>`,
      401,
    );
  }
  // Links keep the key only when it came in the URL; a header-authorized client sends it again itself.
  return { principal, keyQuery: key === queryKey && queryKey ? `key=${encodeURIComponent(queryKey)}` : "" };
}

outboxRoutes.get("/outbox", async (c) => {
  const auth = await authorize(c);
  if (auth instanceof Response) return auth;
  const before = c.req.query("before");
  const results = await listOutboxMessages(c.env.DB, auth.principal.workspaceId, before ?? null, PAGE_SIZE + 1);
  const rows = results.slice(0, PAGE_SIZE);
  const last = rows.at(-1);
  const link = (path: string, extra = "") => {
    const query = [auth.keyQuery, extra].filter(Boolean).join("&");
    return query ? `${path}?${query}` : path;
  };
  const older =
    results.length > PAGE_SIZE && last
      ? html`<p><a href="${link("/outbox", `before=${encodeURIComponent(last.id)}`)}">Older messages</a></p>`
      : "";
  const body =
    rows.length === 0
      ? html`<p>No messages yet.</p>`
      : html`<table>
  <thead><tr><th>Created</th><th>Status</th><th>To</th><th>Subject</th><th>Origin</th><th>Provider</th></tr></thead>
  <tbody>${rows.map(
    (row) =>
      html`<tr><td>${row.created_at}</td><td>${row.status}</td><td>${row.to_email}</td><td><a href="${link(`/outbox/${encodeURIComponent(row.id)}`)}">${row.subject}</a></td><td>${row.origin}</td><td>${row.provider}</td></tr>`,
  )}</tbody>
</table>${older}`;
  return page(
    `Outbox · ${auth.principal.workspaceSlug}`,
    html`<p class="muted">Rendered email of workspace <strong>${auth.principal.workspaceSlug}</strong>, newest first.</p>${body}`,
    200,
  );
});

outboxRoutes.get("/outbox/:id", async (c) => {
  const auth = await authorize(c);
  if (auth instanceof Response) return auth;
  const id = c.req.param("id");
  const row = await findOutboxMessage(c.env.DB, auth.principal.workspaceId, id);
  if (!row) return page("Outbox", html`<p>No message with id <code>${id}</code> in this workspace.</p>`, 404);
  const back = auth.keyQuery ? `/outbox?${auth.keyQuery}` : "/outbox";
  const fields: [string, string | number | null][] = [
    ["To", row.to_email],
    ["Status", row.status],
    ["Provider", row.provider],
    ["Provider message id", row.provider_message_id],
    ["Origin", row.origin],
    ["Account", row.account_id],
    ["Contact", row.contact_id],
    ["Created", row.created_at],
    ["Sent", row.sent_at],
    ["Attempts", row.attempts],
    ["Error", row.error],
  ];
  // The HTML part is shown in a sandboxed frame: no scripts, no forms, no navigation of this page.
  const htmlPart = row.body_html
    ? html`<h2>HTML</h2><iframe sandbox title="HTML part" srcdoc="${row.body_html}"></iframe>
<details><summary>HTML source</summary><pre>${row.body_html}</pre></details>`
    : "";
  return page(
    row.subject,
    html`<p><a href="${back}">← Outbox</a></p>
<table>${fields.map(([name, value]) => html`<tr><th>${name}</th><td>${value ?? "—"}</td></tr>`)}</table>
<h2>Text</h2><pre>${row.body_text}</pre>${htmlPart}`,
    200,
  );
});

async function page(title: string, content: HtmlEscapedString | Promise<HtmlEscapedString>, status: number) {
  const body = await html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.45; }
  body { margin: 0; padding: 1.5rem 1rem; background: Canvas; color: CanvasText; }
  main { max-width: 60rem; margin: 0 auto; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid color-mix(in srgb, CanvasText 15%, transparent); vertical-align: top; }
  pre { white-space: pre-wrap; border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); padding: 0.75rem; border-radius: 6px; }
  iframe { width: 100%; min-height: 20rem; border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); border-radius: 6px; background: white; }
  .muted { opacity: 0.75; }
</style>
</head>
<body><main><h1>${title}</h1>${content}</main></body>
</html>`;
  return new Response(body.toString(), {
    status,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      // Nothing may run or load; inline styles only. The key may be in the URL, so no referrer leaves.
      "Content-Security-Policy":
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
    },
  });
}
