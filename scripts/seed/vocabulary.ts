/**
 * Word lists and text templates for the demo data: company and person names, titles, and the
 * customer-written texts (tickets, survey comments, feedback) that the text tools analyse.
 * Placeholders look like `{feature}` and are filled by {@link fill}.
 */

/** An industry with the words its company names use and when its usage peaks. */
export interface Industry {
  name: string;
  nouns: readonly string[];
  tld: string;
  /** Day of the year of peak activity for seasonal accounts. */
  peakDay: number;
  useCases: readonly string[];
}

export const INDUSTRIES: readonly Industry[] = [
  {
    name: "Software",
    nouns: ["Software", "Labs", "Systems", "Cloud", "Technologies", "Digital", "Data"],
    tld: "io",
    peakDay: 300,
    useCases: ["Product analytics", "Revenue reporting", "Board reporting"],
  },
  {
    name: "Financial Services",
    nouns: ["Capital", "Financial", "Partners", "Bank", "Wealth", "Insurance", "Credit"],
    tld: "com",
    peakDay: 20,
    useCases: ["Regulatory reporting", "Portfolio dashboards", "Branch performance"],
  },
  {
    name: "Healthcare",
    nouns: ["Health", "Medical", "Care", "Clinics", "Diagnostics", "Therapeutics"],
    tld: "com",
    peakDay: 40,
    useCases: ["Patient throughput", "Clinic operations", "Claims analytics"],
  },
  {
    name: "Retail",
    nouns: ["Outfitters", "Market", "Goods", "Supply", "Stores", "Brands", "Home"],
    tld: "com",
    peakDay: 330,
    useCases: ["Store performance", "Merchandising analytics", "E-commerce reporting"],
  },
  {
    name: "Manufacturing",
    nouns: ["Industries", "Manufacturing", "Components", "Works", "Fabrication", "Materials"],
    tld: "com",
    peakDay: 100,
    useCases: ["Plant efficiency", "Supply chain visibility", "Quality reporting"],
  },
  {
    name: "Logistics",
    nouns: ["Logistics", "Freight", "Transport", "Shipping", "Fleet", "Express"],
    tld: "com",
    peakDay: 320,
    useCases: ["Fleet utilisation", "Delivery performance", "Warehouse dashboards"],
  },
  {
    name: "Education",
    nouns: ["Academy", "Learning", "Education", "University", "Schools", "Institute"],
    tld: "org",
    peakDay: 260,
    useCases: ["Enrollment analytics", "Student success", "Course reporting"],
  },
  {
    name: "Media",
    nouns: ["Media", "Studios", "Publishing", "Entertainment", "Broadcasting"],
    tld: "com",
    peakDay: 280,
    useCases: ["Audience analytics", "Ad revenue reporting", "Content performance"],
  },
  {
    name: "Professional Services",
    nouns: ["Consulting", "Advisors", "Group", "Associates", "Partners", "Solutions"],
    tld: "com",
    peakDay: 150,
    useCases: ["Utilisation reporting", "Client dashboards", "Project profitability"],
  },
  {
    name: "Real Estate",
    nouns: ["Properties", "Realty", "Estates", "Living", "Development"],
    tld: "com",
    peakDay: 160,
    useCases: ["Occupancy reporting", "Portfolio dashboards", "Leasing analytics"],
  },
  {
    name: "Hospitality",
    nouns: ["Hotels", "Hospitality", "Resorts", "Dining", "Travel"],
    tld: "com",
    peakDay: 190,
    useCases: ["Occupancy forecasting", "Guest experience", "Revenue management"],
  },
  {
    name: "Energy",
    nouns: ["Energy", "Power", "Renewables", "Utilities", "Solar"],
    tld: "com",
    peakDay: 15,
    useCases: ["Asset monitoring", "Grid reporting", "Field operations"],
  },
  {
    name: "Telecommunications",
    nouns: ["Telecom", "Networks", "Communications", "Wireless", "Connect"],
    tld: "com",
    peakDay: 340,
    useCases: ["Network KPIs", "Churn reporting", "Subscriber analytics"],
  },
];

/** First halves of compound company names. */
export const NAME_HEADS: readonly string[] = [
  "Blue",
  "North",
  "Iron",
  "Silver",
  "Bright",
  "Clear",
  "Red",
  "Green",
  "Stone",
  "Cedar",
  "Maple",
  "Oak",
  "Pine",
  "River",
  "Lake",
  "Sun",
  "Star",
  "Cobalt",
  "Amber",
  "Golden",
  "Swift",
  "True",
  "High",
  "Far",
  "West",
  "East",
  "Summit",
  "Harbor",
  "Pioneer",
  "Crest",
  "Falcon",
  "Eagle",
  "Fox",
  "Wolf",
  "Bear",
  "Copper",
  "Granite",
  "Coral",
  "Jade",
  "Nova",
  "Vector",
  "Quantum",
  "Atlas",
  "Apex",
  "Zen",
  "Lumen",
  "Aurora",
  "Orbit",
];

/** Second halves of compound company names. */
export const NAME_TAILS: readonly string[] = [
  "peak",
  "wind",
  "field",
  "stone",
  "bridge",
  "gate",
  "line",
  "point",
  "water",
  "light",
  "wave",
  "ridge",
  "path",
  "way",
  "brook",
  "wood",
  "haven",
  "view",
  "mark",
  "works",
  "forge",
  "stack",
  "leaf",
  "rock",
  "shore",
  "vale",
  "crest",
  "spring",
];

/** Places used in names such as "Harbor City Health". */
export const PLACES: readonly string[] = [
  "Hudson",
  "Pacific",
  "Atlantic",
  "Alpine",
  "Midwest",
  "Lakeside",
  "Bayview",
  "Riverside",
  "Highland",
  "Coastal",
  "Metro",
  "Prairie",
  "Sierra",
  "Cascade",
  "Harbor City",
  "Northern",
  "Southern",
  "Central",
];

/** Regions and a few countries in each. */
export const REGIONS: readonly (readonly [string, readonly string[], number])[] = [
  ["North America", ["United States", "United States", "United States", "Canada"], 50],
  ["EMEA", ["United Kingdom", "Germany", "France", "Netherlands", "Sweden", "Spain", "United Arab Emirates"], 30],
  ["APAC", ["Australia", "Singapore", "Japan", "India", "New Zealand"], 12],
  ["LATAM", ["Brazil", "Mexico", "Chile", "Colombia"], 8],
];

/** UTC working hours (start, end) per region, for realistic timestamps. */
export const REGION_HOURS: Readonly<Record<string, readonly [number, number]>> = {
  "North America": [13, 23],
  EMEA: [7, 17],
  APAC: [0, 9],
  LATAM: [12, 21],
};

export const FIRST_NAMES: readonly string[] = [
  "Emma",
  "Liam",
  "Olivia",
  "Noah",
  "Ava",
  "Ethan",
  "Sophia",
  "Lucas",
  "Mia",
  "Mason",
  "Isabella",
  "Logan",
  "Amelia",
  "James",
  "Harper",
  "Benjamin",
  "Evelyn",
  "Elijah",
  "Abigail",
  "Daniel",
  "Chloe",
  "Henry",
  "Grace",
  "Samuel",
  "Zoe",
  "David",
  "Nora",
  "Joseph",
  "Lily",
  "Carter",
  "Hannah",
  "Owen",
  "Aaliyah",
  "Wyatt",
  "Leah",
  "Jack",
  "Maya",
  "Luke",
  "Aria",
  "Gabriel",
  "Priya",
  "Arjun",
  "Ananya",
  "Rohan",
  "Mei",
  "Hiroshi",
  "Yuki",
  "Min-jun",
  "Seo-yeon",
  "Wei",
  "Lin",
  "Omar",
  "Layla",
  "Youssef",
  "Fatima",
  "Mateo",
  "Valentina",
  "Santiago",
  "Camila",
  "Diego",
  "Lucía",
  "João",
  "Ana",
  "Pedro",
  "Lukas",
  "Lena",
  "Finn",
  "Clara",
  "Jonas",
  "Elif",
  "Emre",
  "Sven",
  "Ingrid",
  "Pierre",
  "Camille",
  "Chidi",
  "Amara",
  "Kwame",
  "Zanele",
  "Siobhan",
];

export const LAST_NAMES: readonly string[] = [
  "Smith",
  "Johnson",
  "Williams",
  "Brown",
  "Jones",
  "Garcia",
  "Miller",
  "Davis",
  "Rodriguez",
  "Martinez",
  "Hernandez",
  "Lopez",
  "Wilson",
  "Anderson",
  "Thomas",
  "Taylor",
  "Moore",
  "Jackson",
  "Martin",
  "Lee",
  "Thompson",
  "White",
  "Harris",
  "Clark",
  "Lewis",
  "Robinson",
  "Walker",
  "Young",
  "Allen",
  "King",
  "Wright",
  "Scott",
  "Hill",
  "Green",
  "Adams",
  "Nelson",
  "Baker",
  "Campbell",
  "Mitchell",
  "Roberts",
  "Patel",
  "Shah",
  "Sharma",
  "Iyer",
  "Chen",
  "Wang",
  "Li",
  "Zhang",
  "Liu",
  "Tanaka",
  "Suzuki",
  "Sato",
  "Kim",
  "Park",
  "Nguyen",
  "Tran",
  "Haddad",
  "Khalil",
  "Mansour",
  "Silva",
  "Santos",
  "Oliveira",
  "Costa",
  "Fernández",
  "Ramírez",
  "Torres",
  "Müller",
  "Schmidt",
  "Schneider",
  "Fischer",
  "Weber",
  "Dubois",
  "Laurent",
  "Rossi",
  "Bianchi",
  "Johansson",
  "Lindqvist",
  "Okafor",
  "Mensah",
  "Dlamini",
  "O'Brien",
  "Murphy",
  "Kelly",
  "Novak",
  "Kowalski",
  "Yilmaz",
  "Demir",
];

/** Buying-committee roles (`contacts.role`) with the titles people in them hold. */
export const CONTACT_ROLES: Readonly<Record<string, readonly string[]>> = {
  executive_sponsor: ["CEO", "COO", "Chief Data Officer", "Chief Operating Officer", "Managing Director"],
  economic_buyer: ["CFO", "VP of Finance", "Head of Procurement", "Finance Director"],
  decision_maker: ["VP of Operations", "VP of Analytics", "CTO", "VP of Revenue Operations", "Head of IT"],
  champion: [
    "Director of Operations",
    "Head of Analytics",
    "Revenue Operations Manager",
    "BI Lead",
    "Director of Business Intelligence",
    "Operations Excellence Lead",
  ],
  admin: ["IT Administrator", "Systems Administrator", "Data Engineer", "Platform Administrator"],
  user: [
    "Data Analyst",
    "Operations Manager",
    "Financial Analyst",
    "Sales Manager",
    "Marketing Analyst",
    "Account Manager",
    "Supply Chain Analyst",
    "Product Manager",
    "Customer Success Manager",
    "Project Coordinator",
  ],
};

/** Tools customers connect the product to. */
export const INTEGRATION_NAMES: readonly string[] = [
  "Salesforce",
  "HubSpot",
  "Snowflake",
  "BigQuery",
  "Slack",
  "Microsoft Teams",
  "Jira",
  "Zendesk",
  "Google Sheets",
  "NetSuite",
  "PostgreSQL",
];

/** Competitors named in churn notes and complaints. */
export const COMPETITORS: readonly string[] = ["Metricly", "Dashlane BI", "ChartHouse", "InsightLoop"];

/** A ticket template: what the customer wrote, and how urgent such tickets usually are. */
export interface TicketTemplate {
  subject: string;
  body: string;
}

/** Ticket categories (`tickets.category`) with their templates. */
export const TICKET_TEMPLATES: Readonly<Record<string, readonly TicketTemplate[]>> = {
  bug: [
    {
      subject: "{feature} shows an error after the latest update",
      body: 'Hi team,\n\nSince yesterday\'s release, opening {feature} gives us "Something went wrong (code {code})". It happens for several users on Chrome and Edge. Clearing the cache did not help.\n\nCan you take a look? This is blocking our weekly review.\n\nThanks,\n{first}',
    },
    {
      subject: "Dashboard filters reset when the page refreshes",
      body: "Hello,\n\nWhen we set date and region filters on a dashboard and the page auto-refreshes, all filters go back to the defaults. Our team has to reapply them every 15 minutes.\n\nSteps: open any dashboard, set a filter, wait for the refresh.\n\nRegards,\n{first}",
    },
    {
      subject: "Numbers in the {report} report don't match the export",
      body: "Hi,\n\nThe totals in the {report} report differ from the CSV export of the same report by about {n}%. Which one is correct? We present these figures to leadership, so we need to understand the difference.\n\n{first}",
    },
    {
      subject: "Scheduled email of {report} arrives empty",
      body: "Hi support,\n\nOur scheduled delivery of the {report} report has arrived with an empty attachment for the last {n} days. Running the report manually works fine.\n\nBest,\n{first}",
    },
    {
      subject: "Charts render blank in Safari",
      body: "Hello,\n\nSeveral colleagues on Macs see blank chart tiles in Safari. The same dashboards render fine in Chrome. Is Safari supported?\n\nThanks,\n{first}",
    },
  ],
  how_to: [
    {
      subject: "How do I share a dashboard with people outside our company?",
      body: "Hi,\n\nWe'd like to share the {report} dashboard with a client without giving them a full seat. Is there a guest link or a read-only option?\n\nThanks,\n{first}",
    },
    {
      subject: "How to set up a calculated field",
      body: "Hello,\n\nI'm trying to build a margin % field from two existing columns in {report}. Where do I define calculated fields, and can they be reused across reports?\n\n{first}",
    },
    {
      subject: "Adding new users and assigning roles",
      body: "Hi team,\n\nWe have {n} new analysts starting next week. What's the fastest way to add them and give them edit rights only on our team's folder?\n\nCheers,\n{first}",
    },
    {
      subject: "Best way to schedule a weekly report to leadership",
      body: "Hi,\n\nCould you point me to how to schedule the {report} report as a PDF every Monday morning to a distribution list?\n\nThank you,\n{first}",
    },
    {
      subject: "How do alerts work for threshold changes?",
      body: "Hello,\n\nWe want to be notified when daily orders fall below a threshold. Can alerts do that, and can they post to {integration}?\n\n{first}",
    },
  ],
  billing: [
    {
      subject: "Question about invoice {invoice}",
      body: "Hello,\n\nInvoice {invoice} shows {n} more seats than we expected. Could you send a breakdown of the seat count by month?\n\nKind regards,\n{first}",
    },
    {
      subject: "Update billing contact and PO number",
      body: "Hi,\n\nPlease update our billing contact to our new finance team mailbox and add PO number PO-{code} to future invoices.\n\nThanks,\n{first}",
    },
    {
      subject: "Can we move to quarterly invoicing?",
      body: "Hello,\n\nOur finance team asked whether we can switch from annual upfront to quarterly invoicing at the next renewal. What would that mean for our pricing?\n\n{first}",
    },
    {
      subject: "Reducing seats before renewal",
      body: "Hi,\n\nWe have fewer active users than licensed seats. How many seats can we drop at renewal, and by when do we need to tell you?\n\nThanks,\n{first}",
    },
  ],
  integration: [
    {
      subject: "{integration} sync failing since this morning",
      body: 'Hi team,\n\nOur {integration} connector shows "authentication failed" and the last successful sync was {n} hours ago. We re-entered the credentials but the error persists.\n\nCan you check on your side?\n\n{first}',
    },
    {
      subject: "Missing fields after connecting {integration}",
      body: "Hello,\n\nAfter connecting {integration}, some custom fields are not available for reporting. Is there a field mapping step we missed?\n\nThanks,\n{first}",
    },
    {
      subject: "API rate limit errors from our nightly job",
      body: "Hi,\n\nOur nightly job that pulls data through the API gets HTTP 429 after about {n} requests. Can the limit be raised or is there a bulk endpoint?\n\n{first}",
    },
    {
      subject: "Duplicate records after {integration} re-sync",
      body: "Hello,\n\nAfter we re-ran the {integration} sync, many records appear twice in our reports. How can we clean this up and avoid it next time?\n\nRegards,\n{first}",
    },
  ],
  performance: [
    {
      subject: "Dashboards are very slow to load",
      body: "Hi,\n\nOur main dashboard now takes {n} seconds or more to load; a month ago it was instant. The team has started exporting to spreadsheets instead. Anything you can do?\n\n{first}",
    },
    {
      subject: "{report} report times out",
      body: "Hello,\n\nThe {report} report times out when we select more than one quarter of data. We need a full-year view for planning.\n\nThanks,\n{first}",
    },
    {
      subject: "Exports take hours to complete",
      body: "Hi support,\n\nCSV exports that used to take a minute now take over an hour and sometimes never arrive. This is hurting our month-end close.\n\n{first}",
    },
  ],
  feature_request: [
    {
      subject: "Request: scheduled PDF exports with our branding",
      body: "Hi,\n\nIt would help a lot if scheduled PDF exports could carry our logo and colours. We send them to clients every week.\n\nThanks,\n{first}",
    },
    {
      subject: "Request: two-way sync with {integration}",
      body: "Hello,\n\nWe'd love to push calculated scores back into {integration}, not only read from it. Is that on the roadmap?\n\n{first}",
    },
    {
      subject: "Request: custom roles and permissions",
      body: "Hi team,\n\nWe need a role that can edit dashboards but not data sources. The current roles are too coarse for our {n} departments.\n\n{first}",
    },
  ],
  outage: [
    {
      subject: "URGENT: cannot log in",
      body: "Hi,\n\nNobody on our team can log in right now; we get a 502 error page. We have a board meeting in two hours that depends on these dashboards. Please help ASAP.\n\n{first}",
    },
    {
      subject: "Service down? Dashboards not loading at all",
      body: "Hello,\n\nAll dashboards show a spinner and never load, for every user at {company}. Is there an incident?\n\n{first}",
    },
    {
      subject: "Data stopped updating across all reports",
      body: "Hi,\n\nNone of our reports have refreshed since {n}:00 UTC. Every data source shows as stale. Is something wrong on your side?\n\nUrgently,\n{first}",
    },
  ],
};

/** Report names customers mention. */
export const REPORT_NAMES: readonly string[] = [
  "Weekly Pipeline",
  "Monthly Revenue",
  "Regional Sales",
  "Inventory Health",
  "Customer Cohorts",
  "Executive Summary",
  "Marketing Funnel",
  "Operations Scorecard",
];

/** A knowledge-base article: category, title and body. */
export interface KbTemplate {
  category: string;
  title: string;
  body: string;
}

/**
 * Help-center articles. They cover every ticket category except `performance`, so the KB-gap
 * analysis has a real gap to find.
 */
export const KB_TEMPLATES: readonly KbTemplate[] = [
  {
    category: "how_to",
    title: "Getting started: your first dashboard",
    body: "Create a dashboard from the Home page, add tiles from any report, and arrange them with drag and drop. Dashboards refresh every 15 minutes by default.",
  },
  {
    category: "how_to",
    title: "Sharing dashboards with guests and external viewers",
    body: "Use Share → Guest link to give read-only access without a seat. Guest links can expire and can be restricted to email domains.",
  },
  {
    category: "how_to",
    title: "Creating calculated fields",
    body: "Open a report, choose Fields → New calculated field and write an expression such as (revenue - cost) / revenue. Saved fields can be reused in any report of the workspace.",
  },
  {
    category: "how_to",
    title: "Scheduling reports by email",
    body: "From any report choose Schedule, pick PDF or CSV, a frequency and recipients. Distribution lists and time zones are supported.",
  },
  {
    category: "how_to",
    title: "Setting up threshold alerts",
    body: "Alerts watch a metric and notify you when it crosses a threshold or changes by a percentage. Notifications go to email, Slack or Microsoft Teams.",
  },
  {
    category: "how_to",
    title: "Adding users and assigning roles",
    body: "Admins add users under Settings → Users, individually or by CSV. Roles are Viewer, Editor and Admin; folder permissions refine access.",
  },
  {
    category: "how_to",
    title: "Organising content with folders",
    body: "Folders group dashboards and reports. Permissions set on a folder apply to everything inside it.",
  },
  {
    category: "how_to",
    title: "Using the mobile app",
    body: "The mobile app shows your favourite dashboards and pushes alert notifications. Sign in with the same account or SSO.",
  },
  {
    category: "how_to",
    title: "Exporting data to CSV and Excel",
    body: "Every report can be exported to CSV or Excel. Large exports run in the background and arrive by email when ready.",
  },
  {
    category: "how_to",
    title: "Asking questions with the AI assistant",
    body: "The AI assistant answers questions in plain language over your reports and suggests charts. It only uses data your role can see.",
  },
  {
    category: "how_to",
    title: "Building workflow automations",
    body: "Automations run steps when a condition is met: refresh a data source, send a report, post to a channel. Each run is logged with its outcome.",
  },
  {
    category: "integration",
    title: "Connecting Salesforce",
    body: "Authorise with an integration user, choose objects to sync and map custom fields. The first sync can take up to an hour for large orgs.",
  },
  {
    category: "integration",
    title: "Connecting Snowflake and BigQuery",
    body: "Create a read-only service account, allow our IP ranges and paste the connection details. Queries run live or on a schedule.",
  },
  {
    category: "integration",
    title: "Troubleshooting failed syncs",
    body: "A failed sync usually means expired credentials or a revoked permission. Re-authorise the connector and check the sync log for the first error.",
  },
  {
    category: "integration",
    title: "Field mapping for CRM connectors",
    body: "Custom fields must be enabled in the field mapping step before they can be used in reports. Re-run the sync after changing the mapping.",
  },
  {
    category: "integration",
    title: "API rate limits and bulk endpoints",
    body: "The API allows 600 requests per minute per key. Use the bulk export endpoint for nightly jobs; it returns up to 100,000 rows per call.",
  },
  {
    category: "integration",
    title: "Avoiding duplicates when re-syncing",
    body: "Enable 'upsert on external id' for each object so a re-sync updates records instead of inserting them again.",
  },
  {
    category: "integration",
    title: "Posting alerts to Slack and Microsoft Teams",
    body: "Install the app in your chat workspace and pick a channel per alert. Messages include a chart snapshot and a link to the report.",
  },
  {
    category: "billing",
    title: "Understanding your invoice",
    body: "Invoices list each product with seats, unit price and term. Seat changes during a term are prorated on the next invoice.",
  },
  {
    category: "billing",
    title: "Changing billing contacts and PO numbers",
    body: "Admins can update billing contacts and PO numbers under Settings → Billing. Changes apply to the next invoice.",
  },
  {
    category: "billing",
    title: "Adding or removing seats",
    body: "Seats can be added at any time. Reductions take effect at renewal; tell your account team at least 30 days before the renewal date.",
  },
  {
    category: "billing",
    title: "Payment methods and invoicing schedules",
    body: "We accept card, bank transfer and direct debit. Annual upfront is standard; quarterly invoicing is available for multi-year terms.",
  },
  {
    category: "bug",
    title: "Known issue: filters reset after auto-refresh",
    body: "Dashboard filters can reset after an auto-refresh when the URL has no saved view. Workaround: save the view with its filters and share the view link.",
  },
  {
    category: "bug",
    title: "Known issue: blank charts in older Safari versions",
    body: "Safari versions before 16 cannot render some chart types. Update Safari or use Chrome, Edge or Firefox.",
  },
  {
    category: "bug",
    title: "Why report totals can differ from exports",
    body: "Reports round displayed values and may apply row limits; exports contain all rows unrounded. Check the report's row limit setting.",
  },
  {
    category: "outage",
    title: "Service status and incident updates",
    body: "Incidents are posted on the status page with updates every 30 minutes. Subscribe to email or Slack notifications there.",
  },
  {
    category: "outage",
    title: "What to do when dashboards do not load",
    body: "Check the status page first. If no incident is posted, try a private window and send us the request id shown on the error page.",
  },
  {
    category: "feature_request",
    title: "How we handle feature requests",
    body: "Requests are reviewed every two weeks by product management. You can follow the status of your requests in the customer portal.",
  },
  {
    category: "security",
    title: "Setting up single sign-on (SAML)",
    body: "Admins configure SAML under Settings → Security with your identity provider's metadata. Enforce SSO once it is tested.",
  },
  {
    category: "security",
    title: "Audit logs: what is recorded",
    body: "Audit logs record sign-ins, permission changes, exports and data-source changes for 13 months.",
  },
  {
    category: "security",
    title: "Data retention and deletion",
    body: "Workspace data is kept for the contract term plus 30 days. Admins can request deletion of a data source at any time.",
  },
  {
    category: "how_to",
    title: "Embedding dashboards in other tools",
    body: "Embed a dashboard with an iframe snippet from Share → Embed. Viewers need a seat or a guest link.",
  },
  {
    category: "how_to",
    title: "Importing spreadsheets",
    body: "Upload CSV or Excel files up to 200 MB. Imports can be refreshed by uploading a new version with the same columns.",
  },
  {
    category: "how_to",
    title: "Keyboard shortcuts",
    body: "Press ? anywhere to see shortcuts. Common ones: / to search, e to edit a tile, f to toggle full screen.",
  },
  {
    category: "billing",
    title: "Renewal process and timeline",
    body: "Your account team reaches out 90 days before renewal with usage and a proposal. Auto-renewing contracts renew on the same terms.",
  },
  {
    category: "integration",
    title: "Connecting HubSpot",
    body: "Authorise HubSpot with a super-admin, choose objects and sync frequency. Custom properties appear after the first full sync.",
  },
];

/** A feedback theme: the product area it is about and the texts customers write about it. */
export interface FeedbackTheme {
  kind: "feature_request" | "bug" | "praise" | "complaint" | "idea";
  feature: string | null;
  title: string;
  body: string;
  /** Relative popularity across the customer base. */
  weight: number;
}

export const FEEDBACK_THEMES: readonly FeedbackTheme[] = [
  {
    kind: "feature_request",
    feature: "exports",
    title: "Scheduled PDF exports with custom branding",
    body: "We send reports to our clients weekly and need our logo on the PDFs.",
    weight: 9,
  },
  {
    kind: "feature_request",
    feature: "integrations",
    title: "Two-way Salesforce sync",
    body: "Let us write scores back to Salesforce so sales sees them without logging in.",
    weight: 8,
  },
  {
    kind: "feature_request",
    feature: "admin_console",
    title: "Custom roles and granular permissions",
    body: "We need a role that can edit dashboards but cannot touch data sources.",
    weight: 7,
  },
  {
    kind: "feature_request",
    feature: "alerts",
    title: "Slack alerts with chart snapshots",
    body: "Alerts in Slack should include the chart, not only a link.",
    weight: 6,
  },
  {
    kind: "feature_request",
    feature: "mobile_app",
    title: "Offline mode for the mobile app",
    body: "Our field teams lose signal often; cached dashboards would help.",
    weight: 4,
  },
  {
    kind: "feature_request",
    feature: "ai_assistant",
    title: "AI assistant answers in more languages",
    body: "Our teams in Brazil and Germany want to ask questions in their own language.",
    weight: 5,
  },
  {
    kind: "feature_request",
    feature: "reports",
    title: "Bulk edit for report filters",
    body: "Changing the same filter on 30 reports one by one takes forever.",
    weight: 5,
  },
  {
    kind: "feature_request",
    feature: "automations",
    title: "Webhooks when an automation finishes",
    body: "We want to trigger our own jobs when an automation run completes.",
    weight: 4,
  },
  {
    kind: "feature_request",
    feature: "api",
    title: "Higher API rate limits for nightly jobs",
    body: "Our nightly extraction hits the rate limit; a bulk endpoint or higher limit would fix it.",
    weight: 3,
  },
  {
    kind: "feature_request",
    feature: "dashboards",
    title: "Drill-down from dashboard tiles",
    body: "Clicking a bar should open the rows behind it.",
    weight: 7,
  },
  {
    kind: "feature_request",
    feature: "report_shared",
    title: "Share reports with external guests",
    body: "We need read-only links for partners who do not have seats.",
    weight: 6,
  },
  {
    kind: "feature_request",
    feature: "data_import",
    title: "Incremental CSV imports",
    body: "Re-uploading the whole file every day is slow; append-only imports would be better.",
    weight: 3,
  },
  {
    kind: "bug",
    feature: "dashboards",
    title: "Filters reset after auto-refresh",
    body: "Every refresh clears our filters and the team has to set them again.",
    weight: 5,
  },
  {
    kind: "bug",
    feature: "exports",
    title: "Scheduled exports sometimes arrive empty",
    body: "About once a week the scheduled CSV is empty.",
    weight: 3,
  },
  {
    kind: "bug",
    feature: "integrations",
    title: "Sync creates duplicate records",
    body: "After a re-sync we see every record twice.",
    weight: 3,
  },
  {
    kind: "praise",
    feature: "automations",
    title: "Automations saved our ops team hours every week",
    body: "The weekly reporting run is now fully automatic. Great work!",
    weight: 4,
  },
  {
    kind: "praise",
    feature: "dashboards",
    title: "Leadership loves the new dashboards",
    body: "Our exec team now starts every Monday meeting with the dashboard.",
    weight: 5,
  },
  {
    kind: "praise",
    feature: "ai_assistant",
    title: "AI assistant is a hit with our analysts",
    body: "Analysts answer ad-hoc questions in minutes instead of days.",
    weight: 3,
  },
  {
    kind: "praise",
    feature: null,
    title: "Support was fast and helpful",
    body: "Our issue was solved within the hour. Thank you!",
    weight: 3,
  },
  {
    kind: "complaint",
    feature: "dashboards",
    title: "Dashboards have become slow",
    body: "Load times have gone up a lot over the last weeks and people are giving up on the tool.",
    weight: 4,
  },
  {
    kind: "complaint",
    feature: null,
    title: "Price increase at renewal is hard to justify",
    body: "We are not using enough of the product to justify the renewal price.",
    weight: 3,
  },
  {
    kind: "complaint",
    feature: null,
    title: "Support response times are too long",
    body: "We waited days for answers on urgent tickets.",
    weight: 3,
  },
  {
    kind: "complaint",
    feature: "reports",
    title: "Missing features compared to alternatives",
    body: "Other tools we evaluated offer pixel-perfect reports out of the box.",
    weight: 2,
  },
  {
    kind: "idea",
    feature: "dashboards",
    title: "Dashboard templates per industry",
    body: "Starter dashboards for our industry would speed up onboarding for new teams.",
    weight: 3,
  },
  {
    kind: "idea",
    feature: "alerts",
    title: "Anomaly detection on key metrics",
    body: "Alert us when a metric behaves unusually, not only on fixed thresholds.",
    weight: 3,
  },
];

/** NPS comments by band. */
export const NPS_COMMENTS = {
  promoter: [
    "The dashboards are now part of how we run the business.",
    "Great product and a very responsive team.",
    "Automations save us hours every week.",
    "Easy to use, and our CSM really understands our goals.",
    "We rolled it out to two more departments this quarter.",
  ],
  passive: [
    "Good tool, but reports can be slow with large datasets.",
    "Does what we need; the pricing is a bit high.",
    "Solid, though some features feel unfinished.",
    "Works well once set up, but setup took longer than expected.",
  ],
  detractor: [
    "Too many issues lately and support takes too long.",
    "Our team stopped using it since our main contact left.",
    "We are not getting enough value for the price.",
    "Performance has been poor for weeks.",
    "The integration keeps breaking and we lose trust in the numbers.",
    "We are evaluating other options.",
  ],
} as const;

/** CSAT comments by outcome. */
export const CSAT_COMMENTS = {
  good: ["Quick and clear answer, thanks!", "Solved on the first reply.", "Very helpful agent."],
  bad: [
    "Took far too long to get a real answer.",
    "Issue is still not really fixed.",
    "Had to explain the problem three times.",
  ],
} as const;

/** CES comments by how easy it was. */
export const CES_COMMENTS = {
  easy: ["Easy, the help article covered it.", "Very little effort on our side."],
  hard: ["Lots of back-and-forth to get this solved.", "We had to chase for updates several times."],
} as const;

/** Fills `{key}` placeholders; unknown keys are left as they are. */
export function fill(template: string, vars: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = vars[key];
    return value === undefined ? whole : String(value);
  });
}

/** Lower-case ASCII slug for email local parts and domains (accents dropped). */
export function asciiSlug(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "");
}
