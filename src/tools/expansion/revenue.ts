import type { ToolDefinition } from "../../platform/mcp/define-tool";
import { optimizeCustomerLifetimeValue } from "./clv";
import { negotiateRenewals } from "./negotiate";
import { trackRevenueExpansion } from "./revenue-expansion";

/** Expansion tools: negotiate_renewals, track_revenue_expansion and optimize_customer_lifetime_value. */
export const revenueTools: ToolDefinition[] = [negotiateRenewals, trackRevenueExpansion, optimizeCustomerLifetimeValue];
