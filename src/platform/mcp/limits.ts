/**
 * Rate limits and quotas on tool calls. Calls per minute go through the Workers Rate Limiting
 * binding, per credential and per workspace: cheap, but approximate and counted per Cloudflare
 * location. Writes per hour and sends per day are counted exactly per workspace in D1, since
 * they are what a runaway client would cost a team. A refused call is a tool error that says
 * which budget ran out and when to retry, never an empty result.
 */
import type { Principal } from "../auth/principal";
import { ToolError } from "./errors";
import { releaseQuota, reserveQuota } from "./queries";

/** `_meta` key of a refused call's retry hint, in seconds. */
export const RETRY_AFTER_META_KEY = "cs-mcp/retry_after_seconds";

/** The Rate Limiting binding's window, in seconds (as configured in wrangler.toml). */
const CALL_WINDOW_SECONDS = 60;

/** A call refused by a rate limit or quota, with when a retry can pass. */
export class RateLimitError extends ToolError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** One exact quota: its kind, window and limit. */
export interface Quota {
  kind: "writes" | "sends";
  windowSeconds: number;
  limit: number;
}

/** Reads a positive whole number from a setting, else the default. */
function positive(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** The quotas of this deployment: WRITE_QUOTA_PER_HOUR (default 2,000) and SEND_QUOTA_PER_DAY (default 200). */
export function quotasOf(env: Partial<Pick<Env, "WRITE_QUOTA_PER_HOUR" | "SEND_QUOTA_PER_DAY">>): {
  writes: Quota;
  sends: Quota;
} {
  return {
    writes: { kind: "writes", windowSeconds: 3600, limit: positive(env.WRITE_QUOTA_PER_HOUR, 2000) },
    sends: { kind: "sends", windowSeconds: 86_400, limit: positive(env.SEND_QUOTA_PER_DAY, 200) },
  };
}

/** The fixed window `now` falls in, and the seconds until it ends. */
export function windowOf(now: Date, windowSeconds: number): { start: string; secondsLeft: number } {
  const size = windowSeconds * 1000;
  const start = Math.floor(now.getTime() / size) * size;
  return {
    start: new Date(start).toISOString(),
    secondsLeft: Math.max(1, Math.ceil((start + size - now.getTime()) / 1000)),
  };
}

/**
 * Counts one call against the binding, per credential (an API key, or the user of an OAuth
 * token) and per workspace, and refuses it when either is spent.
 */
export async function checkCallRate(
  env: Pick<Env, "CALLS_PER_CREDENTIAL" | "CALLS_PER_WORKSPACE">,
  principal: Principal,
): Promise<void> {
  const credential = principal.keyId ?? `user:${principal.userId}`;
  const [perCredential, perWorkspace] = await Promise.all([
    env.CALLS_PER_CREDENTIAL.limit({ key: `${principal.workspaceId}/${credential}` }),
    env.CALLS_PER_WORKSPACE.limit({ key: principal.workspaceId }),
  ]);
  if (!perCredential.success || !perWorkspace.success) {
    const whose = perCredential.success ? "this workspace" : "this credential";
    throw new RateLimitError(
      `Rate limit: ${whose} made too many calls in the last minute. Retry after ${CALL_WINDOW_SECONDS} seconds.`,
      CALL_WINDOW_SECONDS,
    );
  }
}

/** A quota counted for one call, to give back if the call fails. */
export interface Reservation {
  kind: Quota["kind"];
  windowStart: string;
}

/**
 * Counts a write (and a send) against the workspace's exact quotas, all or none, and returns
 * what to give back if the call fails; refuses the call when a quota is spent.
 */
export async function reserveQuotas(
  db: D1Database,
  workspaceId: string,
  quotas: readonly Quota[],
  now: Date,
): Promise<Reservation[]> {
  const reserved: Reservation[] = [];
  for (const quota of quotas) {
    const window = windowOf(now, quota.windowSeconds);
    if (await reserveQuota(db, workspaceId, { kind: quota.kind, windowStart: window.start, limit: quota.limit })) {
      reserved.push({ kind: quota.kind, windowStart: window.start });
      continue;
    }
    await releaseQuotas(db, workspaceId, reserved);
    const per = quota.kind === "writes" ? "hour" : "day (UTC)";
    throw new RateLimitError(
      `Quota: this workspace made its ${quota.limit} ${quota.kind} allowed per ${per}. Retry after ${window.secondsLeft} seconds, or ask the deployment's admin to raise ${quota.kind === "writes" ? "WRITE_QUOTA_PER_HOUR" : "SEND_QUOTA_PER_DAY"}.`,
      window.secondsLeft,
    );
  }
  return reserved;
}

/** Gives back what {@link reserveQuotas} counted. */
export async function releaseQuotas(
  db: D1Database,
  workspaceId: string,
  reserved: readonly Reservation[],
): Promise<void> {
  for (const reservation of reserved) await releaseQuota(db, workspaceId, reservation);
}
