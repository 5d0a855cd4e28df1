import { insert } from "./mcp";

/** Row builders for the usage tools' fixtures, bound to one workspace. */
export function usageFixtures(workspaceId: string) {
  return {
    account(
      id: string,
      segment: string,
      status = "active",
      extra: Record<string, string | number | null> = {},
      workspace = workspaceId,
    ) {
      return insert("accounts", { id, workspace_id: workspace, name: `Name ${id}`, segment, status, ...extra });
    },
    usage(accountId: string, day: string, activeUsers: number, events: number, sessions: number) {
      return insert("usage_daily", {
        workspace_id: workspaceId,
        account_id: accountId,
        day,
        active_users: activeUsers,
        events,
        sessions,
      });
    },
    feature(accountId: string, day: string, name: string, events: number) {
      return insert("usage_feature_daily", {
        workspace_id: workspaceId,
        account_id: accountId,
        day,
        feature: name,
        events,
        active_users: 1,
      });
    },
  };
}
