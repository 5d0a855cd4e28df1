import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/platform/lib/crypto";
import { createWorkspace, insert, workerFetch } from "../../helpers/mcp";

const WS = "ws_survey-page";
/** A link token in the send's format: 43 base64url characters. */
const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";
const CES_TOKEN = "ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210_-ZyXwV";

const post = (token: string, fields: Record<string, string>) =>
  workerFetch(`/s/${token}`, { method: "POST", body: new URLSearchParams(fields) });

const responses = async () =>
  (
    await env.DB.prepare(
      "SELECT id, account_id, contact_id, kind, score, survey_id, comment FROM survey_responses WHERE workspace_id = ?1 ORDER BY id",
    )
      .bind(WS)
      .all()
  ).results;

describe("survey response page", () => {
  beforeAll(async () => {
    await createWorkspace("survey-page", "csm");
    await env.DB.batch([
      env.DB.prepare("UPDATE workspaces SET settings = ?2 WHERE id = ?1").bind(
        WS,
        JSON.stringify({ email_sender: { name: "Acme <CS>", email: "cs@vendor.test" } }),
      ),
      insert("accounts", { id: "acc_sp", workspace_id: WS, name: "Tom & Jerry's" }),
      insert("contacts", {
        id: "con_sp",
        workspace_id: WS,
        account_id: "acc_sp",
        name: "Pat Page",
        email: "pat@tj.test",
      }),
      insert("surveys", {
        id: "svy_sp",
        workspace_id: WS,
        kind: "nps",
        name: "NPS",
        question: "How likely are you to recommend {{sender.name}} to {{account.name}}? <script>alert(1)</script>",
        status: "sent",
      }),
      insert("survey_invitations", {
        id: "inv_sp",
        workspace_id: WS,
        survey_id: "svy_sp",
        account_id: "acc_sp",
        contact_id: "con_sp",
        token_hash: await sha256Hex(TOKEN),
        sent_at: "2026-11-01T00:00:00.000Z",
      }),
      insert("surveys", {
        id: "svy_sp_ces",
        workspace_id: WS,
        kind: "ces",
        name: "CES",
        question: "How easy?",
        status: "sent",
      }),
      insert("survey_invitations", {
        id: "inv_sp_ces",
        workspace_id: WS,
        survey_id: "svy_sp_ces",
        account_id: "acc_sp",
        contact_id: "con_sp",
        token_hash: await sha256Hex(CES_TOKEN),
      }),
    ]);
  });

  it("renders the kind's scale with the question filled and escaped", async () => {
    const page = await workerFetch(`/s/${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("form-action 'self'");
    const html = await page.text();
    expect(html).toContain(
      "How likely are you to recommend Acme &lt;CS&gt; to Tom &amp; Jerry&#39;s? &lt;script&gt;alert(1)&lt;/script&gt;",
    );
    expect(html).not.toContain("<script>");
    const values = [...html.matchAll(/name="score" value="(\d+)"/g)].map((m) => Number(m[1]));
    expect(values).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(html).toContain(`action="/s/${TOKEN}"`);

    const ces = await (await workerFetch(`/s/${CES_TOKEN}`)).text();
    expect([...ces.matchAll(/name="score" value="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(ces).toContain("7 = Very easy");
  });

  it("answers 404 for an unknown or malformed token", async () => {
    const unknown = await workerFetch(`/s/${"x".repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("This survey link is not valid.");
    expect((await workerFetch("/s/short")).status).toBe(404);
    expect((await post("x".repeat(43), { score: "9" })).status).toBe(404);
  });

  it("refuses a score off the scale without storing anything", async () => {
    const bad = await post(TOKEN, { score: "11" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("Please choose a score from 0 to 10");
    expect(await responses()).toEqual([]);
  });

  it("stores one answer per invitation: a second submission keeps the first", async () => {
    const first = await post(TOKEN, { score: "9", comment: "  Great <b>team</b>  " });
    expect(first.status).toBe(200);
    expect(await first.text()).toContain("Your answer was recorded.");
    const stored = await responses();
    expect(stored).toEqual([
      {
        id: expect.stringMatching(/^srv_/),
        account_id: "acc_sp",
        contact_id: "con_sp",
        kind: "nps",
        score: 9,
        survey_id: "svy_sp",
        comment: "Great <b>team</b>",
      },
    ]);
    const invitation = await env.DB.prepare(
      "SELECT responded_at, response_id FROM survey_invitations WHERE id = 'inv_sp'",
    ).first<{
      responded_at: string | null;
      response_id: string | null;
    }>();
    expect(invitation?.response_id).toBe(stored[0]?.id);
    expect(invitation?.responded_at).not.toBeNull();

    const second = await post(TOKEN, { score: "0" });
    expect(second.status).toBe(409);
    expect(await second.text()).toContain("We already have your answer");
    expect(await responses()).toHaveLength(1);
    expect((await workerFetch(`/s/${TOKEN}`)).status).toBe(409);
  });
});
