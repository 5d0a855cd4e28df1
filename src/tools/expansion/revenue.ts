import type { ToolDefinition } from "../../mcp/tool";

/** Expansion tools: track_revenue_expansion, negotiate_renewals and optimize_customer_lifetime_value. */
export const revenueTools: ToolDefinition[] = [];
