import { sha256Hex } from "../lib/crypto";

/** Failed sign-ins allowed per workspace and email before sign-in pauses. */
export const MAX_SIGN_IN_FAILURES = 10;
/** How long the failures are remembered, counted from the latest one. */
const FAILURE_WINDOW_SECONDS = 900;

async function failureKey(workspace: string, email: string): Promise<string> {
  return `signin-failures:${await sha256Hex(`${workspace}\n${email}`)}`;
}

/**
 * Counts failed sign-ins per workspace and email in KV, so guessing a password is paused
 * after {@link MAX_SIGN_IN_FAILURES} tries. KV is eventually consistent, so the limit is
 * approximate across locations; the PBKDF2 cost of every try slows guessing further.
 */
export const signInThrottle = {
  async blocked(kv: KVNamespace, workspace: string, email: string): Promise<boolean> {
    const count = Number((await kv.get(await failureKey(workspace, email))) ?? 0);
    return count >= MAX_SIGN_IN_FAILURES;
  },
  async fail(kv: KVNamespace, workspace: string, email: string): Promise<void> {
    const key = await failureKey(workspace, email);
    const count = Number((await kv.get(key)) ?? 0);
    await kv.put(key, String(count + 1), { expirationTtl: FAILURE_WINDOW_SECONDS });
  },
  async clear(kv: KVNamespace, workspace: string, email: string): Promise<void> {
    await kv.delete(await failureKey(workspace, email));
  },
};
