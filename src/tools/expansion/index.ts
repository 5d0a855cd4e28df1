import { defineToolset } from "../../platform/toolset";
import { forecastRenewals } from "./forecast-renewals";
import { identifyCrosssellOpportunities } from "./identify-crosssell-opportunities";
import { identifyExpansionOpportunities } from "./identify-expansion-opportunities";
import { identifyUpsellOpportunities } from "./identify-upsell-opportunities";
import { renewalReminders, renewalRemindersJob } from "./jobs";
import { negotiateRenewals } from "./negotiate-renewals";
import { optimizeCustomerLifetimeValue } from "./optimize-customer-lifetime-value";
import { trackRenewals } from "./track-renewals";
import { trackRevenueExpansion } from "./track-revenue-expansion";

/** The expansion toolset. */
export const expansion = defineToolset({
  name: "expansion",
  description:
    "Growth & revenue (114–121): upsell, cross-sell, whitespace, renewals, forecasts, NRR/GRR, lifetime value.",
  isDefault: true,
  tools: [
    identifyUpsellOpportunities,
    identifyCrosssellOpportunities,
    identifyExpansionOpportunities,
    trackRenewals,
    forecastRenewals,
    negotiateRenewals,
    trackRevenueExpansion,
    optimizeCustomerLifetimeValue,
  ],
  jobs: { renewal_reminders: renewalRemindersJob },
  crons: { "0 3 * * *": [renewalReminders] },
});
