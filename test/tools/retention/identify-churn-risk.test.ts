import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeAll, describe, expect, it } from "vitest";
import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { handleHealthChunks } from "../../../src/tools/health/jobs";
import { RISK_FACTORS } from "../../../src/tools/retention/domain/risk-factor-names";
import {
  firstRiskModels,
  handleRiskRetrains,
  RISK_RETRAIN_CRON,
  riskRetrain,
  scoreAndStoreRisk,
  trainAndStore,
} from "../../../src/tools/retention/risk-scoring";
import { REGISTRY } from "../../../src/toolsets";
import { callError, callOk, connectClient, createWorkspace, insert } from "../../helpers/mcp";

const today = isoDay(clock.now());
const at = (offset: number) => `${addDays(today, offset)}T12:00:00.000Z`;

interface FactorRow {
  factor: string;
  value: number | null;
  standardized: number;
  coefficient: number;
  contribution: number;
  flagged: boolean;
}
interface RiskRow {
  account_id: string;
  probability: number;
  arr_at_risk: number;
  top_factors: FactorRow[];
  intervention: { playbook: string; rule: string } | null;
  model_version: number | null;
  scored_on: string;
  computed_now: boolean;
}
interface RiskAnswer {
  model: {
    version: number | null;
    kind: string;
    calibrated: boolean;
    holdout_auc: number | null;
    trained_at: string | null;
  };
  accounts_counted: number;
  arr_at_risk_total: number;
  computed_now: number;
  scored_by_older_model: number;
  accounts: RiskRow[];
  next_cursor: string | null;
}
interface ModelAnswer {
  model: {
    version: number | null;
    kind: string;
    calibrated: boolean;
    examples: { n: number; churned: number; renewed: number };
    holdout: { auc: number | null } | null;
    features: { factor: string; coefficient: number; used: boolean }[];
  };
}

/** P(churn) for log-odds z, rounded as the tools round it. */
const p4 = (z: number) => Math.round(10_000 / (1 + Math.exp(-z))) / 10_000;

describe("identify_churn_risk and score_risk_factors with a stored model", () => {
  const WS = "ws_risktools";
  let viewer: Client;

  beforeAll(async () => {
    viewer = await connectClient((await createWorkspace("risktools", "viewer")).key);
    // A hand-made model: only latest_nps (scale 7 ± 2, coefficient −0.5) and champion_gone
    // (0.2 ± 0.4, coefficient 0.8) are used; intercept −1.
    const features = RISK_FACTORS.map((factor) =>
      factor === "latest_nps"
        ? { factor, mean: 7, sd: 2, observed: 80, used: true, note: null }
        : factor === "champion_gone"
          ? { factor, mean: 0.2, sd: 0.4, observed: 80, used: true, note: null }
          : { factor, mean: null, sd: null, observed: 0, used: false, note: "hand model" },
    );
    const coefficients = Object.fromEntries(
      RISK_FACTORS.map((f) => [f, f === "latest_nps" ? -0.5 : f === "champion_gone" ? 0.8 : 0]),
    );
    const sample = { n: 80, churned: 40, renewed: 40, from: "2024-01-01", to: "2026-01-01" };
    const metrics = {
      lambda: 1,
      examples: sample,
      holdout: {
        auc: 0.8123,
        brier: 0.15,
        calibration: [],
        train: { ...sample, n: 60 },
        test: { ...sample, n: 20 },
      },
      fit: { iterations: 6, converged: true },
      basis: "hand model",
    };
    await env.DB.batch([
      insert("risk_models", {
        id: "rsm_hand",
        workspace_id: WS,
        version: 1,
        kind: "logistic",
        calibrated: 1,
        horizon_days: 90,
        features: JSON.stringify(features),
        coefficients: JSON.stringify(coefficients),
        intercept: -1,
        metrics: JSON.stringify(metrics),
        trained_at: "2026-11-01T00:00:00.000Z",
        trained_by: null,
      }),
      insert("accounts", {
        id: "acc_rt_alpha",
        workspace_id: WS,
        name: "Alpha",
        arr: 50000,
        segment: "enterprise",
        renewal_date: addDays(today, 200),
      }),
      // In force today: the renewal 200 days out and log10(50,000) enter the factors (unused by the model).
      insert("contracts", {
        id: "ctr_rt_alpha",
        workspace_id: WS,
        account_id: "acc_rt_alpha",
        start_date: addDays(today, -165),
        end_date: addDays(today, 200),
        status: "active",
        arr: 50000,
      }),
      insert("accounts", { id: "acc_rt_beta", workspace_id: WS, name: "Beta", arr: 10000, segment: "smb" }),
      insert("accounts", { id: "acc_rt_gone", workspace_id: WS, name: "Gone", arr: 0, status: "churned" }),
      insert("survey_responses", {
        id: "sr_rt_1",
        workspace_id: WS,
        account_id: "acc_rt_alpha",
        kind: "nps",
        score: 3,
        responded_at: at(-1),
      }),
      insert("contacts", {
        id: "con_rt_1",
        workspace_id: WS,
        account_id: "acc_rt_alpha",
        name: "Champion",
        is_champion: 1,
        left_at: at(-10),
      }),
    ]);
  });

  // Alpha: nps z = (3 − 7)/2 = −2 → +1.0; champion z = (1 − 0.2)/0.4 = 2 → +1.6; z = −1 + 2.6 = 1.6.
  const alphaP = p4(1.6);
  // Beta has no data but no departed champion either: champion z = (0 − 0.2)/0.4 = −0.5 → −0.4; z = −1.4.
  const betaP = p4(-1.4);

  it("computes unscored accounts on the fly with the stored model, by hand", async () => {
    const answer = await callOk<RiskAnswer>(viewer, "identify_churn_risk", {});
    expect(answer.model).toMatchObject({ version: 1, kind: "logistic", calibrated: true, holdout_auc: 0.8123 });
    expect(answer.accounts.map((a) => a.account_id)).toEqual(["acc_rt_alpha", "acc_rt_beta"]);
    const [alpha, beta] = answer.accounts;
    expect(alpha).toMatchObject({
      probability: alphaP,
      arr_at_risk: Math.round(alphaP * 50000 * 100) / 100,
      model_version: 1,
      scored_on: today,
      computed_now: true,
    });
    expect(alphaP).toBe(0.832);
    expect(alpha?.top_factors.map((f) => [f.factor, f.value, f.standardized, f.coefficient, f.contribution])).toEqual([
      ["champion_gone", 1, 2, 0.8, 1.6],
      ["latest_nps", 3, -2, -0.5, 1],
    ]);
    expect(alpha?.intervention?.playbook).toBe("executive_sponsor");
    expect(beta).toMatchObject({
      probability: betaP,
      arr_at_risk: Math.round(betaP * 10000 * 100) / 100,
      top_factors: [],
    });
    expect(beta?.intervention).toBeNull();
    expect(answer.accounts_counted).toBe(2);
    expect(answer.computed_now).toBe(2);
    expect(answer.arr_at_risk_total).toBe(Math.round((alphaP * 50000 + betaP * 10000) * 100) / 100);
  });

  it("filters and pages", async () => {
    const first = await callOk<RiskAnswer>(viewer, "identify_churn_risk", { sort: "probability", limit: 1 });
    expect(first.accounts.map((a) => a.account_id)).toEqual(["acc_rt_alpha"]);
    const second = await callOk<RiskAnswer>(viewer, "identify_churn_risk", {
      sort: "probability",
      limit: 1,
      cursor: first.next_cursor,
    });
    expect(second.accounts.map((a) => a.account_id)).toEqual(["acc_rt_beta"]);
    expect(second.next_cursor).toBeNull();
    const high = await callOk<RiskAnswer>(viewer, "identify_churn_risk", { min_probability: 0.5 });
    expect(high.accounts.map((a) => a.account_id)).toEqual(["acc_rt_alpha"]);
    const smb = await callOk<RiskAnswer>(viewer, "identify_churn_risk", { segment: "smb" });
    expect(smb.accounts.map((a) => a.account_id)).toEqual(["acc_rt_beta"]);
    const renewing = await callOk<RiskAnswer>(viewer, "identify_churn_risk", { renewal_within_days: 199 });
    expect(renewing.accounts).toEqual([]);
    expect(
      (await callOk<RiskAnswer>(viewer, "identify_churn_risk", { renewal_within_days: 200 })).accounts.map(
        (a) => a.account_id,
      ),
    ).toEqual(["acc_rt_alpha"]);
    expect(await callError(viewer, "identify_churn_risk", { account_id: "acc_nowhere" })).toContain("No account");
  });

  it("breaks one account down factor by factor", async () => {
    const answer = await callOk<{ account: { probability: number; arr_at_risk: number; factors: FactorRow[] } }>(
      viewer,
      "score_risk_factors",
      { action: "account", account_id: "acc_rt_alpha" },
    );
    expect(answer.account.probability).toBe(alphaP);
    expect(answer.account.factors).toHaveLength(RISK_FACTORS.length);
    expect(answer.account.factors[0]).toMatchObject({ factor: "champion_gone", contribution: 1.6, flagged: true });
    const value = (factor: string) => answer.account.factors.find((f) => f.factor === factor)?.value;
    expect([value("days_to_renewal"), value("arr_band"), value("tenure_days")]).toEqual([
      200,
      Math.round(Math.log10(50000) * 10_000) / 10_000,
      165,
    ]);
    expect(answer.account.factors.find((f) => f.factor === "tickets_90d")).toMatchObject({
      value: 0,
      standardized: 0,
      coefficient: 0,
      contribution: 0,
      flagged: false,
    });
    expect(await callError(viewer, "score_risk_factors", { action: "account" })).toContain("account_id");
    expect(await callError(viewer, "score_risk_factors", { action: "model", account_id: "acc_rt_alpha" })).toContain(
      "account_id does not apply to action model",
    );
  });

  it("stores scores once per account and day, and the listing reads them back", async () => {
    await scoreAndStoreRisk(env, WS, ["acc_rt_alpha", "acc_rt_beta"], today);
    await scoreAndStoreRisk(env, WS, ["acc_rt_alpha", "acc_rt_beta"], today);
    const stored = await env.DB.prepare(
      "SELECT account_id, day, model_id, probability, arr_at_risk, intervention, factors FROM risk_scores WHERE workspace_id = ?1 ORDER BY account_id",
    )
      .bind(WS)
      .all<{
        account_id: string;
        probability: number;
        intervention: string | null;
        factors: string;
        model_id: string;
      }>();
    expect(stored.results.map((r) => [r.account_id, r.probability, r.intervention, r.model_id])).toEqual([
      ["acc_rt_alpha", alphaP, "executive_sponsor", "rsm_hand"],
      ["acc_rt_beta", betaP, null, "rsm_hand"],
    ]);
    const factors = JSON.parse(stored.results[0]?.factors ?? "[]") as FactorRow[];
    expect(factors).toHaveLength(RISK_FACTORS.length);
    expect(factors.map((f) => f.contribution)).toEqual([...factors.map((f) => f.contribution)].sort((a, b) => b - a));
    const account = await env.DB.prepare("SELECT churn_probability FROM accounts WHERE id = 'acc_rt_alpha'").first<{
      churn_probability: number;
    }>();
    expect(account?.churn_probability).toBe(alphaP);

    const answer = await callOk<RiskAnswer>(viewer, "identify_churn_risk", {});
    expect(answer.computed_now).toBe(0);
    expect(answer.scored_by_older_model).toBe(0);
    expect(answer.accounts[0]).toMatchObject({
      account_id: "acc_rt_alpha",
      probability: alphaP,
      computed_now: false,
      model_version: 1,
      scored_on: today,
    });
    expect(answer.accounts[0]?.top_factors.map((f) => f.factor)).toEqual(["champion_gone", "latest_nps"]);

    const library = await callOk<{
      accounts_counted: number;
      library: { factor: string; coefficient: number; accounts_flagged: number; flag_rule: string }[];
    }>(viewer, "score_risk_factors", { action: "library" });
    expect(library.accounts_counted).toBe(2);
    expect(library.library.map((l) => l.factor)).toEqual([...RISK_FACTORS]);
    expect(library.library.find((l) => l.factor === "champion_gone")).toMatchObject({
      coefficient: 0.8,
      accounts_flagged: 1,
    });
    expect(library.library.find((l) => l.factor === "latest_nps")?.accounts_flagged).toBe(1);
    expect(library.library.find((l) => l.factor === "tickets_90d")?.accounts_flagged).toBe(0);

    // A newer model (here the prior: this workspace has no renewal history) leaves the stored
    // scores in place until the next nightly run, and the listing says which version made them.
    await trainAndStore(env, WS, { day: today, trainedAt: clock.now(), trainedBy: "usr_x" });
    const after = await callOk<RiskAnswer>(viewer, "identify_churn_risk", {});
    expect(after.model).toMatchObject({ version: 2, kind: "prior", calibrated: false });
    expect(after.scored_by_older_model).toBe(2);
    expect(after.accounts.map((a) => [a.account_id, a.model_version, a.probability])).toEqual([
      ["acc_rt_alpha", 1, alphaP],
      ["acc_rt_beta", 1, betaP],
    ]);
  });
});

describe("a workspace with too little history", () => {
  const WS = "ws_riskprior";
  let csm: Client;
  let viewer: Client;

  beforeAll(async () => {
    csm = await connectClient((await createWorkspace("riskprior", "csm")).key);
    viewer = await connectClient((await createWorkspace("riskprior", "viewer")).key);
    const contract = (id: string, account: string, outcome: string) =>
      insert("contracts", {
        id,
        workspace_id: WS,
        account_id: account,
        start_date: addDays(today, -500),
        end_date: addDays(today, -135),
        status: "ended",
        arr: 1000,
        outcome,
        outcome_date: addDays(today, -135),
      });
    await env.DB.batch([
      insert("accounts", { id: "acc_rp_1", workspace_id: WS, name: "One", arr: 0, status: "churned" }),
      insert("accounts", { id: "acc_rp_2", workspace_id: WS, name: "Two", arr: 0, status: "churned" }),
      insert("accounts", { id: "acc_rp_3", workspace_id: WS, name: "Three", arr: 1000 }),
      contract("ctr_rp_1", "acc_rp_1", "churned"),
      contract("ctr_rp_2", "acc_rp_2", "churned"),
      contract("ctr_rp_3", "acc_rp_3", "expanded"),
    ]);
  });

  it("answers with the documented prior, not calibrated, before any model is stored", async () => {
    const answer = await callOk<RiskAnswer>(viewer, "identify_churn_risk", {});
    expect(answer.model).toMatchObject({ version: null, kind: "prior", calibrated: false, holdout_auc: null });
    expect(answer.accounts.map((a) => a.account_id)).toEqual(["acc_rp_3"]);
    const result = await viewer.callTool({ name: "identify_churn_risk", arguments: {} });
    expect((result.content as { text: string }[])[0]?.text).toContain("not calibrated on this workspace");
    const model = await callOk<ModelAnswer>(viewer, "score_risk_factors", { action: "model" });
    expect(model.model).toMatchObject({ version: null, kind: "prior", calibrated: false, holdout: null });
    expect(model.model.features.find((f) => f.factor === "champion_gone")).toMatchObject({
      coefficient: 0.9,
      used: true,
    });
  });

  it("trains (csm) as version 1, then 2, and refuses a viewer", async () => {
    await expect(viewer.callTool({ name: "score_risk_factors", arguments: { action: "train" } })).rejects.toMatchObject(
      {
        message: expect.stringContaining("score_risk_factors needs the csm role"),
      },
    );
    const first = await callOk<ModelAnswer>(csm, "score_risk_factors", { action: "train" });
    expect(first.model).toMatchObject({
      version: 1,
      kind: "prior",
      calibrated: false,
      examples: { n: 3, churned: 2, renewed: 1 },
    });
    const second = await callOk<ModelAnswer>(csm, "score_risk_factors", { action: "train" });
    expect(second.model.version).toBe(2);
    const answer = await callOk<RiskAnswer>(viewer, "identify_churn_risk", {});
    expect(answer.model).toMatchObject({ version: 2, kind: "prior", calibrated: false });
    const audit = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE workspace_id = ?1 AND tool = 'score_risk_factors' AND action = 'train'",
    )
      .bind(WS)
      .first<{ n: number }>();
    expect(audit?.n).toBe(2);
  });

  it("retrains weekly once per cron fire", async () => {
    expect(REGISTRY.crons[RISK_RETRAIN_CRON]).toEqual([riskRetrain]);
    const job = { messageId: "m1", workspaceId: WS, scheduledTime: "2026-11-23T04:00:00.000Z" };
    expect((await handleRiskRetrains(env, [job])).size).toBe(0);
    expect((await handleRiskRetrains(env, [{ ...job, messageId: "m2" }])).size).toBe(0);
    const versions = await env.DB.prepare(
      "SELECT version, trained_by FROM risk_models WHERE workspace_id = ?1 ORDER BY version",
    )
      .bind(WS)
      .all<{ version: number; trained_by: string | null }>();
    expect(versions.results.map((r) => r.version)).toEqual([1, 2, 3]);
    expect(versions.results[2]?.trained_by).toBe("weekly retrain 2026-11-23T04:00:00.000Z");
  });
});

describe("nightly scoring after health", () => {
  it("trains each workspace's first model before health is fanned out, once", async () => {
    const WS = "ws_riskfirst";
    await createWorkspace("riskfirst", "viewer");
    await env.DB.batch([insert("accounts", { id: "acc_rf_1", workspace_id: WS, name: "Only", arr: 1000 })]);
    const first = await firstRiskModels.run(env, new Date(`${today}T03:00:00Z`));
    expect(first.workspaces_trained).toBeGreaterThanOrEqual(1);
    const models = await env.DB.prepare("SELECT version, kind, trained_by FROM risk_models WHERE workspace_id = ?1")
      .bind(WS)
      .all();
    expect(models.results).toEqual([{ version: 1, kind: "prior", trained_by: "first nightly run" }]);
    expect(await firstRiskModels.run(env, new Date(`${today}T03:00:00Z`))).toEqual({ workspaces_trained: 0 });
  });

  it("stores the prior for a workspace without a model, then one score per account and day", async () => {
    const WS = "ws_risknightly";
    const viewer = await connectClient((await createWorkspace("risknightly", "viewer")).key);
    await env.DB.batch([
      insert("accounts", { id: "acc_rn_1", workspace_id: WS, name: "First", arr: 1000 }),
      insert("accounts", { id: "acc_rn_2", workspace_id: WS, name: "Second", arr: 2000 }),
    ]);
    const job = { messageId: "m1", workspaceId: WS, runId: "", day: today, accountIds: ["acc_rn_1", "acc_rn_2"] };
    expect((await handleHealthChunks(env, [job])).size).toBe(0);
    expect((await handleHealthChunks(env, [{ ...job, messageId: "m2" }])).size).toBe(0);
    const models = await env.DB.prepare(
      "SELECT version, kind, calibrated, trained_by FROM risk_models WHERE workspace_id = ?1",
    )
      .bind(WS)
      .all();
    expect(models.results).toEqual([{ version: 1, kind: "prior", calibrated: 0, trained_by: "first scoring" }]);
    const scores = await env.DB.prepare(
      "SELECT account_id, day FROM risk_scores WHERE workspace_id = ?1 ORDER BY account_id",
    )
      .bind(WS)
      .all();
    expect(scores.results).toEqual([
      { account_id: "acc_rn_1", day: today },
      { account_id: "acc_rn_2", day: today },
    ]);
    const answer = await callOk<RiskAnswer>(viewer, "identify_churn_risk", {});
    expect(answer.model).toMatchObject({ version: 1, kind: "prior", calibrated: false });
    expect(answer.computed_now).toBe(0);
    expect(answer.accounts.map((a) => [a.account_id, a.computed_now])).toEqual([
      ["acc_rn_2", false],
      ["acc_rn_1", false],
    ]);
  });
});
