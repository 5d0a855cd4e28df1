import { Agent } from "agents";

/** Live state of one customer account (one instance per workspace + account). */
export interface AccountLiveState {
  day: string | null;
  eventsToday: number;
  activeUsersToday: number;
  lastSeenAt: string | null;
}

/**
 * The per-account Durable Object: the single writer for one account's live usage state. Reached
 * with `getAgentByName(env.ACCOUNT_AGENT, workspaceId + ":" + accountId)`.
 */
export class AccountAgent extends Agent<Env, AccountLiveState> {
  override initialState: AccountLiveState = { day: null, eventsToday: 0, activeUsersToday: 0, lastSeenAt: null };

  /** The live snapshot tools show beside the D1 rollups. */
  async snapshot(): Promise<AccountLiveState> {
    return this.state;
  }
}
