import { round } from "../../../platform/lib/stats";
import type { StoredRiskFactor } from "./risk-factor-names";
import { FACTOR_LIBRARY } from "./risk-library";
import type { RiskModelSpec, StoredRiskModel } from "./risk-model";

/** How the churn-risk tools show a model and a factor. */

/** A model as the tools use it: the latest stored one, or the prior when none is stored yet. */
export type ActiveModel = RiskModelSpec &
  Partial<Pick<StoredRiskModel, "id" | "version" | "trained_at" | "trained_by">>;

/** The model header every churn-risk answer carries: version, kind, calibration, holdout and sample sizes. */
export function modelHeader(model: ActiveModel) {
  const holdout = model.metrics.holdout;
  return {
    version: model.version ?? null,
    kind: model.kind,
    calibrated: model.calibrated,
    trained_at: model.trained_at ?? null,
    horizon_days: model.horizon_days,
    holdout_auc: holdout?.auc == null ? null : round(holdout.auc, 4),
    holdout_brier: holdout?.brier == null ? null : round(holdout.brier, 4),
    examples: {
      n: model.metrics.examples.n,
      churned: model.metrics.examples.churned,
      renewed: model.metrics.examples.renewed,
    },
    basis: model.metrics.basis,
  };
}

/** The model in one line of text: version and kind, calibration and holdout, training time. */
export function modelLine(model: ActiveModel): string {
  const h = modelHeader(model);
  const version = h.version === null ? "no model stored yet, the documented prior" : `model v${h.version} (${h.kind})`;
  const quality =
    h.kind === "prior"
      ? "not calibrated on this workspace"
      : `calibrated on ${h.examples.n} renewal points, holdout AUC ${h.holdout_auc ?? "n/a"}, Brier ${h.holdout_brier ?? "n/a"}`;
  return `${version}, ${quality}${h.trained_at ? `, trained ${h.trained_at}` : ""}`;
}

/** A scored factor with its flag rule in words. */
export function factorWithRule(f: StoredRiskFactor): StoredRiskFactor & { flag_rule: string } {
  return { ...f, flag_rule: FACTOR_LIBRARY[f.factor].flag_rule };
}
