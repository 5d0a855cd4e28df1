/**
 * The demo vendor: a B2B analytics product sold per seat per year, its add-ons, the product
 * features whose usage is tracked, and the customer-success team that runs the book.
 */

/** A product feature as it appears in usage rollups (`usage_feature_daily.feature`). */
export interface Feature {
  key: string;
  label: string;
  /** Share of an account's daily events when the feature is in use. */
  weight: number;
  /** Share of the day's active users who touch it. */
  reach: number;
}

/** Tracked features. `report_shared` is the default value event (see workspace settings). */
export const FEATURES: readonly Feature[] = [
  { key: "dashboards", label: "Dashboards", weight: 30, reach: 0.9 },
  { key: "reports", label: "Reports", weight: 22, reach: 0.65 },
  { key: "report_shared", label: "Report sharing", weight: 2, reach: 0.12 },
  { key: "exports", label: "Exports", weight: 6, reach: 0.2 },
  { key: "mobile_app", label: "Mobile app", weight: 5, reach: 0.25 },
  { key: "alerts", label: "Alerts", weight: 6, reach: 0.3 },
  { key: "data_import", label: "Data import", weight: 4, reach: 0.08 },
  { key: "integrations", label: "Integrations", weight: 7, reach: 0.1 },
  { key: "automations", label: "Workflow automations", weight: 8, reach: 0.2 },
  { key: "ai_assistant", label: "AI assistant", weight: 6, reach: 0.3 },
  { key: "api", label: "API", weight: 5, reach: 0.04 },
  { key: "admin_console", label: "Admin console", weight: 1, reach: 0.03 },
];

/** A catalog entry; `features` are the features it unlocks. */
export interface Product {
  key: string;
  name: string;
  family: string;
  /** List price per seat per year, whole currency units. */
  price: number;
  features: readonly string[];
  /** Plans are the core per-seat subscription; everything else is an add-on. */
  isPlan: boolean;
}

const BASE_FEATURES = ["dashboards", "reports", "report_shared", "exports", "mobile_app"] as const;

/** The catalog: three core plans and add-ons across several families. */
export const PRODUCTS: readonly Product[] = [
  { key: "starter", name: "Starter", family: "Platform", price: 240, features: BASE_FEATURES, isPlan: true },
  {
    key: "professional",
    name: "Professional",
    family: "Platform",
    price: 540,
    features: [...BASE_FEATURES, "alerts", "data_import"],
    isPlan: true,
  },
  {
    key: "enterprise",
    name: "Enterprise",
    family: "Platform",
    price: 960,
    features: [...BASE_FEATURES, "alerts", "data_import", "admin_console"],
    isPlan: true,
  },
  {
    key: "automation",
    name: "Workflow Automation",
    family: "Automation",
    price: 180,
    features: ["automations"],
    isPlan: false,
  },
  { key: "ai", name: "AI Insights", family: "Intelligence", price: 240, features: ["ai_assistant"], isPlan: false },
  {
    key: "connectors",
    name: "Data Connectors Pack",
    family: "Data",
    price: 120,
    features: ["integrations"],
    isPlan: false,
  },
  { key: "api", name: "API Access", family: "Data", price: 96, features: ["api"], isPlan: false },
  { key: "sso", name: "SSO & Audit Logs", family: "Security", price: 72, features: ["admin_console"], isPlan: false },
  { key: "support", name: "Premium Support", family: "Services", price: 84, features: [], isPlan: false },
];

/** Looks a product up by key. */
export function productByKey(key: string): Product {
  const product = PRODUCTS.find((p) => p.key === key);
  if (!product) throw new Error(`unknown product ${key}`);
  return product;
}

/** A member of the vendor's team. */
export interface TeamMember {
  key: string;
  name: string;
  role: "viewer" | "csm" | "admin";
  /** Segments whose accounts this person owns (empty: owns none). */
  segments: readonly string[];
}

/** The customer-success team: an admin, a CS manager, eight CSMs and a read-only viewer. */
export const TEAM: readonly TeamMember[] = [
  { key: "admin", name: "Demo Admin", role: "admin", segments: [] },
  { key: "rachel.kim", name: "Rachel Kim", role: "admin", segments: [] },
  { key: "jordan.ellis", name: "Jordan Ellis", role: "csm", segments: ["Enterprise"] },
  { key: "maria.gonzalez", name: "María González", role: "csm", segments: ["Enterprise", "Mid-Market"] },
  { key: "kenji.watanabe", name: "Kenji Watanabe", role: "csm", segments: ["Mid-Market"] },
  { key: "aisha.bello", name: "Aisha Bello", role: "csm", segments: ["Mid-Market"] },
  { key: "tom.becker", name: "Tom Becker", role: "csm", segments: ["Mid-Market", "SMB"] },
  { key: "sofia.rossi", name: "Sofia Rossi", role: "csm", segments: ["SMB"] },
  { key: "liam.oconnor", name: "Liam O'Connor", role: "csm", segments: ["SMB"] },
  { key: "nadia.haddad", name: "Nadia Haddad", role: "csm", segments: ["SMB", "Enterprise"] },
  { key: "ben.carter", name: "Ben Carter", role: "viewer", segments: [] },
];

/** Support agents who work the helpdesk queue (ticket assignees). */
export const SUPPORT_AGENTS: readonly string[] = [
  "Alex Morgan",
  "Priya Nair",
  "Diego Santos",
  "Hannah Schulz",
  "Wei Zhang",
  "Fatima Khan",
];

/** Email of the demo admin for a workspace slug (the login `npm start` prints). */
export function adminEmail(slug: string): string {
  return `admin@${slug}.example`;
}
