import { beforeAll, describe, expect, it } from "vitest";
import { workspaceSettingsSchema } from "../../../src/records/settings";
import { callError, callOk } from "../../helpers/mcp";
import {
  admin,
  adminClient,
  auditMark,
  auditSince,
  type ConfigureResult,
  query,
  setUpWorkspaces,
} from "./write-fixture";

beforeAll(setUpWorkspaces);

describe("configure_workspace", () => {
  it("reads settings, saves a patch as a new version with a diff, and lists history", async () => {
    const initial = await callOk<ConfigureResult>(adminClient, "configure_workspace", { action: "get" });
    expect(initial).toEqual({
      action: "get",
      version: 1,
      current_version: 1,
      settings: workspaceSettingsSchema.parse({}),
    });

    const mark = await auditMark(admin.workspaceId);
    const updated = await callOk<ConfigureResult>(adminClient, "configure_workspace", {
      action: "update",
      expected_version: 1,
      settings: { timezone: "Europe/Berlin", health: { weights: { usage: 35, engagement: 15 } } },
    });
    expect(updated.version).toBe(2);
    expect(updated.current_version).toBe(2);
    expect(updated.changes).toEqual([
      { field: "timezone", before: "UTC", after: "Europe/Berlin" },
      { field: "health.weights.usage", before: 30, after: 35 },
      { field: "health.weights.engagement", before: 20, after: 15 },
    ]);
    expect(updated.settings?.health.weights).toEqual({
      usage: 35,
      engagement: 15,
      support: 15,
      satisfaction: 20,
      financial: 15,
    });
    expect(await auditSince(admin.workspaceId, mark)).toEqual([
      { tool: "configure_workspace", action: "update", target_type: "workspace", target_id: admin.workspaceId },
    ]);
    const [stored] = await query<{ settings_version: number; settings: string }>(
      "SELECT settings_version, settings FROM workspaces WHERE id = ?1",
      admin.workspaceId,
    );
    expect(stored!.settings_version).toBe(2);
    expect(JSON.parse(stored!.settings)).toEqual(updated.settings);
    expect(
      await query(
        "SELECT version, changed_by FROM workspace_settings_versions WHERE workspace_id = ?1",
        admin.workspaceId,
      ),
    ).toEqual([{ version: 2, changed_by: admin.userId }]);

    const unchanged = await callOk<ConfigureResult>(adminClient, "configure_workspace", {
      action: "update",
      settings: { timezone: "Europe/Berlin" },
    });
    expect(unchanged).toMatchObject({ version: 2, current_version: 2, changes: [] });

    const third = await callOk<ConfigureResult>(adminClient, "configure_workspace", {
      action: "update",
      expected_version: 2,
      settings: { kpi_targets: { nps: 50 }, email_sender: { name: "CS Team", email: "cs@core-write.test" } },
    });
    expect(third.version).toBe(3);
    expect(third.changes).toEqual([
      { field: "email_sender", before: null, after: { name: "CS Team", email: "cs@core-write.test" } },
      { field: "kpi_targets.nps", before: 40, after: 50 },
    ]);

    const firstPage = await callOk<ConfigureResult>(adminClient, "configure_workspace", {
      action: "history",
      limit: 1,
    });
    expect(firstPage.current_version).toBe(3);
    expect(firstPage.versions).toEqual([
      { version: 3, changed_by: admin.userId, created_at: expect.any(String), changes: third.changes },
    ]);
    expect(firstPage.next_cursor).toEqual(expect.any(String));
    const secondPage = await callOk<ConfigureResult>(adminClient, "configure_workspace", {
      action: "history",
      limit: 1,
      cursor: firstPage.next_cursor,
    });
    expect(secondPage.versions).toEqual([
      { version: 2, changed_by: admin.userId, created_at: expect.any(String), changes: null },
    ]);
    expect(secondPage.next_cursor).toBeNull();

    const past = await callOk<ConfigureResult>(adminClient, "configure_workspace", { action: "get", version: 2 });
    expect(past.version).toBe(2);
    expect(past.current_version).toBe(3);
    expect(past.settings?.kpi_targets.nps).toBe(40);
    expect(past.settings?.timezone).toBe("Europe/Berlin");
    expect(await callError(adminClient, "configure_workspace", { action: "get", version: 9 })).toBe(
      'No settings version with id "9" in this workspace. Use list or search tools to find valid ids.',
    );
  });

  it("refuses invalid settings and stale versions, naming the field and constraint", async () => {
    const [before] = await query<{ settings_version: number; settings: string }>(
      "SELECT settings_version, settings FROM workspaces WHERE id = ?1",
      admin.workspaceId,
    );
    const version = before!.settings_version;
    const update = (settings: unknown, extra: Record<string, unknown> = {}) =>
      callError(adminClient, "configure_workspace", { action: "update", settings, ...extra });

    expect(await update({ health: { weights: { usage: 30 } } })).toBe(
      "Settings not saved: health.weights must sum to 100 (got 95).",
    );
    expect(await update({ health: { bands: { red_below: 80 } } })).toBe(
      'Settings not saved: health.bands.red_below must be below green_from (got {"red_below":80,"green_from":70}).',
    );
    expect(await update({ kpi_targets: { grr: 1.5 } })).toContain("settings.kpi_targets.grr: Too big");
    expect(await update({ colour: "blue" })).toContain('Unrecognized key: "colour"');
    expect(await update({ timezone: "Mars/Olympus_Mons" })).toBe(
      "Settings not saved: timezone must be an IANA time zone name such as UTC, Europe/Berlin or America/New_York.",
    );
    expect(await update({ timezone: "UTC" }, { expected_version: version - 1 })).toBe(
      `The settings changed since version ${version - 1}: the current version is ${version}. Re-read them with action get, then re-apply your change with expected_version ${version}.`,
    );
    expect(await callError(adminClient, "configure_workspace", { action: "update" })).toBe(
      "action update needs `settings`: an object with only the settings to change.",
    );
    expect(
      await callError(adminClient, "configure_workspace", {
        action: "get",
        settings: { timezone: "UTC" },
        cursor: "x",
      }),
    ).toBe("settings, cursor do not apply to action get; it takes version.");
    const [after] = await query<{ settings_version: number; settings: string }>(
      "SELECT settings_version, settings FROM workspaces WHERE id = ?1",
      admin.workspaceId,
    );
    expect(after).toEqual(before);
  });
});
