/**
 * The survey response page: `GET /s/:token` shows the survey's question with its scale and a
 * comment box; `POST /s/:token` records the answer. The link token is the only credential (256
 * random bits; only its SHA-256 is stored). One answer per invitation: a second submission is
 * refused politely and the first answer is kept.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { firstName, renderTemplate } from "../email/render";
import { clock } from "../platform/lib/clock";
import { sha256Hex } from "../platform/lib/crypto";
import { newId } from "../platform/lib/ids";
import { readSettings } from "../records/settings";
import { inRange, MAX_COMMENT_CHARS, SCALES, type SurveyKind } from "../tools/retention/domain/satisfaction-scores";
import { findInvitationByTokenHash, type InvitationRow, recordSurveyAnswer } from "./queries";

/** `GET /s/:token` and `POST /s/:token`. */
export const surveyRoutes = new Hono<{ Bindings: Env }>();

/** A link token as made by the send: 32 bytes in base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** What low and high mean on each scale, shown under the choices. */
const SCALE_LABELS: Record<SurveyKind, [string, string]> = {
  nps: ["Not at all likely", "Extremely likely"],
  csat: ["Very dissatisfied", "Very satisfied"],
  ces: ["Very difficult", "Very easy"],
};

async function findInvitation(env: Env, token: string): Promise<InvitationRow | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  return findInvitationByTokenHash(env.DB, await sha256Hex(token));
}

/** The question with its template variables filled as in the email (as written when one has no value). */
function questionText(row: InvitationRow): string {
  const sender = readSettings(row.settings ? JSON.parse(row.settings) : {}).email_sender;
  const rendered = renderTemplate(
    row.question,
    {
      "contact.name": row.contact_name,
      "contact.first_name": firstName(row.contact_name),
      "contact.email": row.contact_email,
      "contact.title": row.contact_title,
      "account.name": row.account_name,
      "account.domain": row.account_domain,
      "csm.name": row.csm_name,
      "csm.first_name": firstName(row.csm_name),
      "csm.email": row.csm_email,
      "sender.name": sender?.name ?? null,
      "sender.email": sender?.email ?? null,
    },
    "text",
  );
  return rendered.ok ? rendered.text : row.question;
}

const notFoundPage = () =>
  page(
    "Survey not found",
    html`<p>This survey link is not valid. Please use the link from your email as it is.</p>`,
    404,
  );

const answeredPage = () =>
  page("Already answered", html`<p>We already have your answer to this survey. Thank you!</p>`, 409);

const closedPage = () => page("Survey closed", html`<p>This survey is closed. Thank you for your time.</p>`, 410);

surveyRoutes.get("/s/:token", async (c) => {
  const token = c.req.param("token");
  const row = await findInvitation(c.env, token);
  if (!row) return notFoundPage();
  if (row.status === "closed") return closedPage();
  if (row.responded_at) return answeredPage();
  return page("A quick question", form(row, token), 200);
});

surveyRoutes.post("/s/:token", async (c) => {
  const token = c.req.param("token");
  const row = await findInvitation(c.env, token);
  if (!row) return notFoundPage();
  if (row.status === "closed") return closedPage();
  if (row.responded_at) return answeredPage();
  const body = await c.req.parseBody();
  const scoreText = typeof body.score === "string" ? body.score : "";
  const score = /^\d{1,2}$/.test(scoreText) ? Number(scoreText) : Number.NaN;
  const comment = typeof body.comment === "string" ? body.comment.trim() : "";
  if (!inRange(row.kind, score) || comment.length > MAX_COMMENT_CHARS) {
    const { min, max } = SCALES[row.kind];
    return page(
      "A quick question",
      html`<p class="error">Please choose a score from ${min} to ${max}${comment.length > MAX_COMMENT_CHARS ? html` and keep the comment under ${MAX_COMMENT_CHARS} characters` : ""}.</p>${form(row, token)}`,
      400,
    );
  }
  const responseId = newId("srv");
  const at = clock.now().toISOString();
  const recorded = await recordSurveyAnswer(c.env.DB, {
    invitationId: row.id,
    responseId,
    kind: row.kind,
    score,
    comment: comment === "" ? null : comment,
    respondedAt: at,
  });
  if (!recorded) return answeredPage();
  return page("Thank you!", html`<p>Your answer was recorded. Thank you for taking the time.</p>`, 200);
});

function form(row: InvitationRow, token: string) {
  const { min, max } = SCALES[row.kind];
  const [low, high] = SCALE_LABELS[row.kind];
  const values = Array.from({ length: max - min + 1 }, (_, i) => min + i);
  return html`<form method="post" action="/s/${token}">
  <fieldset>
    <legend>${questionText(row)}</legend>
    <div class="scale">${values.map(
      (value) => html`<label><input type="radio" name="score" value="${value}" required><span>${value}</span></label>`,
    )}</div>
    <p class="ends"><span>${min} = ${low}</span><span>${max} = ${high}</span></p>
  </fieldset>
  <p><label for="comment">Anything you would like to add? (optional)</label><br>
  <textarea id="comment" name="comment" rows="4" maxlength="${MAX_COMMENT_CHARS}"></textarea></p>
  <p><button type="submit">Send</button></p>
</form>`;
}

async function page(title: string, content: HtmlEscapedString | Promise<HtmlEscapedString>, status: number) {
  const body = await html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.45; }
  body { margin: 0; padding: 1.5rem 1rem; background: Canvas; color: CanvasText; }
  main { max-width: 40rem; margin: 0 auto; }
  fieldset { border: 0; padding: 0; margin: 0; }
  legend { font-size: 1.1rem; margin-bottom: 0.75rem; }
  .scale { display: flex; flex-wrap: wrap; gap: 0.4rem; }
  .scale label { display: flex; flex-direction: column; align-items: center; min-width: 2.2rem; }
  .ends { display: flex; justify-content: space-between; opacity: 0.75; font-size: 0.9rem; }
  textarea { width: 100%; box-sizing: border-box; }
  .error { color: #b00020; }
</style>
</head>
<body><main><h1>${title}</h1>${content}</main></body>
</html>`;
  return new Response(body.toString(), {
    status,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      // Nothing may run or load; the form may post only back here. The token is in the URL, so no referrer leaves.
      "Content-Security-Policy":
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
    },
  });
}
