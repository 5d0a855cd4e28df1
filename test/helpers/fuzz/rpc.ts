import { workerFetch } from "../mcp";

/** A JSON-RPC error object as the server sends it. */
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** A tool result as the server sends it. */
export interface RpcToolResult {
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** What one raw `tools/call` over HTTP came back as. */
export interface RpcAnswer {
  status: number;
  /** The response body as received (JSON or a Server-Sent Events stream). */
  body: string;
  /** The JSON-RPC message in the body; absent when the body holds none (a transport failure). */
  message?: { result?: RpcToolResult; error?: RpcError };
}

let nextId = 1;

/**
 * Sends one `tools/call` as a raw JSON-RPC request to `/mcp` and reads the answer, JSON or SSE.
 * `body` replaces the serialized request when given, to send text JSON cannot express.
 */
export async function rawToolCall(
  key: string,
  query: string,
  name: string,
  args: unknown,
  body?: (request: string) => string,
): Promise<RpcAnswer> {
  const request = JSON.stringify({
    jsonrpc: "2.0",
    id: nextId++,
    method: "tools/call",
    params: { name, arguments: args },
  });
  const response = await workerFetch(`/mcp${query}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-06-18",
    },
    body: body ? body(request) : request,
  });
  const text = await response.text();
  return { status: response.status, body: text, message: parseMessage(text) };
}

/** The JSON-RPC message of a JSON body, or of the first `data:` event of an SSE stream. */
function parseMessage(text: string): RpcAnswer["message"] {
  const candidates = text.trimStart().startsWith("{")
    ? [text]
    : text
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5));
  for (const candidate of candidates) {
    try {
      const parsed = JSON.parse(candidate) as RpcAnswer["message"];
      if (parsed && typeof parsed === "object" && ("result" in parsed || "error" in parsed)) return parsed;
    } catch {
      // Not JSON: try the next event.
    }
  }
  return undefined;
}
