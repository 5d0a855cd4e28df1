import { z } from "zod";

/**
 * A calendar day written YYYY-MM-DD that exists (no month 13, no 30 February): a day that only
 * looks like one would reach date arithmetic as an invalid time.
 */
export const dayArg = z.iso.date("use a date that exists, written YYYY-MM-DD");
