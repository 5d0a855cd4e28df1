import { defineToolset } from "../../platform/toolset";
import { renewalReminders, renewalRemindersJob } from "./jobs";
import { opportunityTools } from "./opportunities";
import { renewalTools } from "./renewals";
import { revenueTools } from "./revenue";

/** The expansion toolset. */
export const expansion = defineToolset({
  name: "expansion",
  description:
    "Growth & revenue (114–121): upsell, cross-sell, whitespace, renewals, forecasts, NRR/GRR, lifetime value.",
  isDefault: true,
  tools: [...opportunityTools, ...renewalTools, ...revenueTools],
  jobs: { renewal_reminders: renewalRemindersJob },
  crons: { "0 3 * * *": [renewalReminders] },
});
