import { clock } from "../../../src/platform/lib/clock";
import { addDays, isoDay } from "../../../src/platform/lib/time";
import { insert } from "../../helpers/mcp";

/**
 * The accounts the lifecycle and milestone tests read, dated from the pinned clock: c1 churned
 * (rule 1 beats rule 2), c2 age 30 (rule 2 beats renewal in 10 days), c3 renewal in 30 (rule 3),
 * c4 red and renewal in 200 (rule 4), c5 age 200 (rule 5), c6 age 500 active (rule 6), c7
 * prospect (no rule); cx in `otherWs`.
 */
export function lifecycleBook(ws: string, otherWs: string): D1PreparedStatement[] {
  const today = isoDay(clock.now());
  const d = (days: number) => addDays(today, days);
  const account = (id: string, row: Record<string, string | number | null>, workspace = ws) =>
    insert("accounts", { id, workspace_id: workspace, name: `Name ${id}`, ...row });
  return [
    account("c1", { status: "churned", customer_since: d(-30), lifecycle_stage: "onboarding", arr: 100 }),
    account("c2", { customer_since: d(-30), renewal_date: d(10), lifecycle_stage: "onboarding", arr: 200 }),
    account("c3", {
      customer_since: d(-200),
      renewal_date: d(30),
      health_band: "red",
      lifecycle_stage: "adoption",
      arr: 300,
    }),
    account("c4", {
      customer_since: d(-200),
      renewal_date: d(200),
      health_band: "red",
      lifecycle_stage: "at_risk",
      arr: 400,
    }),
    account("c5", { customer_since: d(-200), health_band: "green", lifecycle_stage: "onboarding", arr: 500 }),
    account("c6", { customer_since: d(-500), health_band: "yellow", lifecycle_stage: "mature", arr: 600 }),
    account("c7", { status: "prospect", lifecycle_stage: "onboarding", arr: 0 }),
    account("cx", { customer_since: d(-30), lifecycle_stage: "adoption" }, otherWs),
  ];
}
