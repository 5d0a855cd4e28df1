import type { ToolDefinition } from "../../mcp/tool";
import { trackRevenueExpansion } from "./revenue-expansion";

/** Expansion tools: track_revenue_expansion, negotiate_renewals and optimize_customer_lifetime_value. */
export const revenueTools: ToolDefinition[] = [trackRevenueExpansion];
