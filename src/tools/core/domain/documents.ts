/**
 * Searchable documents: the record kinds the full-text index covers, their typed ids
 * (`ticket:tkt_9`) and stable URIs (`cs-mcp://ticket/tkt_9`).
 */

/** Record kinds in the search index, as stored in `search_docs.kind`. */
export const DOCUMENT_KINDS = ["account", "contact", "ticket", "kb_article", "feedback"] as const;

export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** Kinds whose title and body are written by end customers. */
export const CUSTOMER_WRITTEN_KINDS: ReadonlySet<DocumentKind> = new Set(["ticket", "feedback"]);

/** The typed id `search` returns and `fetch` accepts. */
export function documentId(kind: DocumentKind, refId: string): string {
  return `${kind}:${refId}`;
}

/** The stable URI of a document. */
export function documentUrl(kind: DocumentKind, refId: string): string {
  return `cs-mcp://${kind}/${refId}`;
}

const TYPED_ID = /^(account|contact|ticket|kb_article|feedback):([A-Za-z0-9_.-]{1,200})$/;
const DOCUMENT_URL = /^cs-mcp:\/\/(account|contact|ticket|kb_article|feedback)\/([A-Za-z0-9_.-]{1,200})$/;

/** Reads a typed id or a document URI; null when it is neither. */
export function parseDocumentId(value: string): { kind: DocumentKind; refId: string } | null {
  const match = TYPED_ID.exec(value.trim()) ?? DOCUMENT_URL.exec(value.trim());
  if (!match) return null;
  return { kind: match[1] as DocumentKind, refId: match[2]! };
}

/**
 * Customer-written text as placed between `[customer-written …]` markers: a marker-like
 * `[customer-written` or `[end customer-written` inside it is escaped (`\[`), so the text
 * cannot close its own section and make what follows read as the server's words.
 */
export function quotedCustomerText(text: string): string {
  return text.replace(/\[(?=\s*(?:end\s+)?customer-written)/gi, "\\[");
}
