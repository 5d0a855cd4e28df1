/**
 * The Durable Object of one account, by its `workspace:account` name. `agents` is loaded on first
 * use because it needs the Workers runtime, while scripts read the tool registry under Node.
 */
export async function accountAgentStub(env: Env, name: string) {
  const { getAgentByName } = await import("agents");
  return getAgentByName(env.ACCOUNT_AGENT, name);
}
