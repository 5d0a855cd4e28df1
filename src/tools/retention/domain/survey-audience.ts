import { z } from "zod";

/** Days a contact who answered the same kind is left out of a new survey, unless the survey says otherwise. */
export const DEFAULT_SKIP_ANSWERED_DAYS = 90;

/** The audience a survey was created with, stored on the survey. */
export const audienceSchema = z.object({
  mode: z.enum(["accounts", "segment", "all_active"]),
  account_ids: z.array(z.string()).optional(),
  segment: z.string().optional(),
  skip_answered_within_days: z.number().int(),
});
export type Audience = z.output<typeof audienceSchema>;

/**
 * The audience a create call asks for: its accounts (deduplicated, sorted), else the active
 * accounts of its segment, else every active account.
 */
export function audienceOf(args: {
  account_ids?: readonly string[];
  segment?: string;
  skip_answered_within_days?: number;
}): Audience {
  const skip = args.skip_answered_within_days ?? DEFAULT_SKIP_ANSWERED_DAYS;
  if (args.account_ids) {
    return { mode: "accounts", account_ids: [...new Set(args.account_ids)].sort(), skip_answered_within_days: skip };
  }
  if (args.segment) return { mode: "segment", segment: args.segment, skip_answered_within_days: skip };
  return { mode: "all_active", skip_answered_within_days: skip };
}

/** The instant from which an answer of the same kind leaves a contact out; null when none does. */
export function answeredCutoff(now: Date, audience: Audience): string | null {
  return audience.skip_answered_within_days > 0
    ? new Date(now.getTime() - audience.skip_answered_within_days * 86_400_000).toISOString()
    : null;
}
