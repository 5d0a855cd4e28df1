/** Worker secrets (set with `wrangler secret put`, or `.dev.vars` locally); not in wrangler.toml. */
interface WorkerSecrets {
  /** base64 of 32 random bytes: encrypts integration secrets at rest. */
  ENCRYPTION_KEY: string;
  SENDGRID_API_KEY?: string;
  SLACK_WEBHOOK_URL?: string;
}

interface Env extends WorkerSecrets {}
declare namespace Cloudflare {
  interface Env extends WorkerSecrets {}
}
