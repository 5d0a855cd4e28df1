import type { ToolDefinition } from "../../platform/mcp/define-tool";
import { negotiateRenewals } from "./negotiate-renewals";
import { optimizeCustomerLifetimeValue } from "./optimize-customer-lifetime-value";
import { trackRevenueExpansion } from "./track-revenue-expansion";

/** Expansion tools: negotiate_renewals, track_revenue_expansion and optimize_customer_lifetime_value. */
export const revenueTools: ToolDefinition[] = [negotiateRenewals, trackRevenueExpansion, optimizeCustomerLifetimeValue];
