/**
 * Personalization of outbound email: `{{contact.first_name}}`-style variables filled from
 * stored data. Pure functions, no bindings.
 */

/** Every variable a template may use. */
export const TEMPLATE_VARIABLES = [
  "contact.name",
  "contact.first_name",
  "contact.email",
  "contact.title",
  "account.name",
  "account.domain",
  "csm.name",
  "csm.first_name",
  "csm.email",
  "sender.name",
  "sender.email",
] as const;

export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** Values for the variables; a variable left out or null has no value. */
export type TemplateValues = Partial<Record<TemplateVariable, string | null>>;

/**
 * How values are written into the template: `html` escapes them, `line` (a subject) turns
 * line breaks into spaces, `text` writes them as they are.
 */
export type TemplateFormat = "text" | "html" | "line";

/** The filled template, or the variables that prevented it. */
export type RenderResult =
  | { ok: true; text: string }
  | {
      ok: false;
      /** Names that are not template variables (as written between the braces). */
      unknown: string[];
      /** Known variables with no value in the stored data. */
      missing: TemplateVariable[];
    };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const KNOWN = new Set<string>(TEMPLATE_VARIABLES);

/**
 * Fills `{{name}}` placeholders. An unknown variable or one without a value is an error that
 * names it, never a silent blank, so a person sees the mistake before anything is sent.
 */
export function renderTemplate(template: string, values: TemplateValues, format: TemplateFormat): RenderResult {
  const unknown = new Set<string>();
  const missing = new Set<TemplateVariable>();
  const text = template.replace(PLACEHOLDER, (placeholder, name: string) => {
    if (!isTemplateVariable(name)) {
      unknown.add(name);
      return placeholder;
    }
    const value = values[name];
    if (value === undefined || value === null || value.trim() === "") {
      missing.add(name);
      return placeholder;
    }
    if (format === "html") return escapeHtml(value);
    if (format === "line") return value.replace(/[\r\n]+/g, " ");
    return value;
  });
  if (unknown.size > 0 || missing.size > 0) return { ok: false, unknown: [...unknown], missing: [...missing] };
  return { ok: true, text };
}

function isTemplateVariable(name: string): name is TemplateVariable {
  return KNOWN.has(name);
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** The first word of a name, for `first_name` variables. */
export function firstName(name: string | null | undefined): string | null {
  const first = name?.trim().split(/\s+/)[0];
  return first ? first : null;
}

/** An email's three templated parts. */
export interface EmailTemplates {
  subject: string;
  text: string;
  html?: string | null;
}

/** The rendered parts, or a message naming every variable that could not be filled. */
export type RenderedEmail =
  | { ok: true; subject: string; text: string; html: string | null }
  | { ok: false; error: string };

/** Renders subject (one line), text and HTML (escaped values) with the same values. */
export function renderEmail(templates: EmailTemplates, values: TemplateValues): RenderedEmail {
  const subject = renderTemplate(templates.subject, values, "line");
  const text = renderTemplate(templates.text, values, "text");
  const html = templates.html ? renderTemplate(templates.html, values, "html") : null;
  const results = [subject, text, ...(html ? [html] : [])];
  const unknown = new Set(results.flatMap((result) => (result.ok ? [] : result.unknown)));
  const missing = new Set(results.flatMap((result) => (result.ok ? [] : result.missing)));
  if (subject.ok && text.ok && (html === null || html.ok)) {
    return { ok: true, subject: subject.text, text: text.text, html: html?.text ?? null };
  }
  const problems: string[] = [];
  if (unknown.size > 0) {
    problems.push(
      `unknown template variable(s) ${[...unknown].map((name) => `{{${name}}}`).join(", ")} (known: ${TEMPLATE_VARIABLES.join(", ")})`,
    );
  }
  if (missing.size > 0) {
    problems.push(
      `no stored value for ${[...missing].map((name) => `{{${name}}}`).join(", ")} (give the contact or account it comes from, or fill the field)`,
    );
  }
  return { ok: false, error: `The email cannot be personalized: ${problems.join("; ")}.` };
}

/** Stored facts an email's template variables are filled from. */
export interface TemplateFacts {
  contact_name: string | null;
  contact_email: string | null;
  contact_title: string | null;
  account_name: string | null;
  account_domain: string | null;
  csm_name: string | null;
  csm_email: string | null;
}

/** Every template variable's value for one email. */
export function templateValues(facts: TemplateFacts, sender: { name: string; email: string }): TemplateValues {
  return {
    "contact.name": facts.contact_name,
    "contact.first_name": firstName(facts.contact_name),
    "contact.email": facts.contact_email,
    "contact.title": facts.contact_title,
    "account.name": facts.account_name,
    "account.domain": facts.account_domain,
    "csm.name": facts.csm_name,
    "csm.first_name": firstName(facts.csm_name),
    "csm.email": facts.csm_email,
    "sender.name": sender.name,
    "sender.email": sender.email,
  };
}
