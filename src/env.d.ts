/** Worker secrets (set with `wrangler secret put`, or `.dev.vars` locally); not in wrangler.toml. */
interface WorkerSecrets {
  /** base64 of 32 random bytes: encrypts integration secrets at rest. */
  ENCRYPTION_KEY: string;
  SENDGRID_API_KEY?: string;
  SLACK_WEBHOOK_URL?: string;
  /**
   * "1" lets a request ask for its D1 cost with `X-Debug-D1: 1` (or `sql` for the statements
   * too), returned in the tool result's `_meta`. For benchmarks and local runs; leave unset in
   * production.
   */
  DEBUG_D1?: string;
}

interface Env extends WorkerSecrets {}
declare namespace Cloudflare {
  interface Env extends WorkerSecrets {}
}
