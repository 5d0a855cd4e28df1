import { z } from "zod";
import type { AnyTool } from "../../../src/platform/mcp/define-tool";
import type { RpcAnswer } from "./rpc";
import { LEAKS } from "./strings";

/** How a call ended, for the per-tool counts. */
export type Outcome = "ok" | "tool-error" | "invalid-input" | "rpc-error" | "failure";

/** JSON-RPC errors a bad request may get: parse error, invalid request, invalid params. */
const CLIENT_ERRORS = new Set([-32700, -32600, -32602]);

function leaks(where: string, text: string): string[] {
  return LEAKS.filter(({ pattern }) => pattern.test(text)).map(({ what }) => `${where} shows ${what}`);
}

/**
 * What is wrong with one answer: an HTTP 5xx, no JSON-RPC message, an internal JSON-RPC error,
 * an internal or output-validation error result, structured content outside the tool's output
 * schema, or a leak (stack, SQL, path, `undefined`, `NaN`) in any text or field.
 */
export function answerProblems(tool: AnyTool, answer: RpcAnswer): { outcome: Outcome; problems: string[] } {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`HTTP ${answer.status}`);
  const { message } = answer;
  if (!message) {
    problems.push(`no JSON-RPC message in the answer (HTTP ${answer.status}): ${answer.body.slice(0, 300)}`);
    return { outcome: "failure", problems };
  }
  if (message.error) {
    if (!CLIENT_ERRORS.has(message.error.code)) problems.push(`JSON-RPC error ${message.error.code}`);
    problems.push(...leaks("the JSON-RPC error", JSON.stringify(message.error)));
    return { outcome: problems.length > 0 ? "failure" : "rpc-error", problems };
  }
  const result = message.result ?? {};
  const text = (result.content ?? []).map((c) => c.text ?? "").join("\n");
  problems.push(...leaks("the text", text));
  if (result.isError) {
    if (/^Internal error in /.test(text)) problems.push("an internal error");
    if (/^Output validation error/.test(text)) problems.push("an answer outside its output schema");
    const invalid = /^Input validation error/.test(text);
    return { outcome: problems.length > 0 ? "failure" : invalid ? "invalid-input" : "tool-error", problems };
  }
  if (!result.structuredContent) problems.push("no structuredContent");
  else {
    const parsed = z.object(tool.output).safeParse(result.structuredContent);
    if (!parsed.success) problems.push(`structuredContent outside the output schema: ${parsed.error.message}`);
    problems.push(...leaks("structuredContent", JSON.stringify(result.structuredContent)));
  }
  return { outcome: problems.length > 0 ? "failure" : "ok", problems };
}
