/**
 * Toolset modules and the registry built from them. The platform knows no toolset: `src/index.ts`
 * hands it the modules of `src/toolsets.ts`, and MCP listing, the queue router and cron all read
 * the registry made here.
 *
 * @module
 */
import type { Hono } from "hono";
import type { AnyTool } from "./mcp/define-tool";
import { type CronTable, mergeCronTables } from "./queue/cron";
import type { JobTable } from "./queue/jobs";

/** Routes a module serves outside `/mcp` (pages, webhooks). */
export type Routes = Hono<{ Bindings: Env }>;

/** One toolset: its tools and the background work and pages that belong to them. */
export interface ToolsetModule {
  /** The name clients pass in `?toolsets=`. */
  name: string;
  /** One line for the server instructions. */
  description: string;
  /** Enabled when a client names no toolsets. */
  isDefault: boolean;
  /** Its tools, in the order they are listed. */
  tools: readonly AnyTool[];
  /** `cs-jobs` message handlers by message type. */
  jobs?: JobTable;
  /** Scheduled work by cron expression. */
  crons?: CronTable;
  /** Pages and endpoints outside `/mcp`. */
  routes?: Routes;
}

/** Declares a toolset module. */
export function defineToolset(module: ToolsetModule): ToolsetModule {
  return module;
}

/** Work that belongs to no toolset (outbound email and alerts, ingestion, data retention). */
export interface PlatformParts {
  jobs: JobTable;
  crons: CronTable;
  routes: readonly Routes[];
}

/** Everything the server offers, assembled once from the toolset modules. */
export interface Registry {
  toolsets: readonly ToolsetModule[];
  /** Every tool in toolset order. */
  tools: readonly AnyTool[];
  toolsetNames: readonly string[];
  defaultToolsets: readonly string[];
  /** Each toolset's tool names, in registry order. */
  catalog: ReadonlyMap<string, readonly string[]>;
  toolByName: ReadonlyMap<string, AnyTool>;
  jobs: JobTable;
  crons: CronTable;
  routes: readonly Routes[];
}

/**
 * Builds the registry, refusing what would be ambiguous at run time: two toolsets or tools of the
 * same name, a tool declared in another toolset than the module holding it, or two handlers for
 * one job type.
 */
export function createRegistry(toolsets: readonly ToolsetModule[], platform: PlatformParts): Registry {
  const toolByName = new Map<string, AnyTool>();
  const jobs: JobTable = { ...platform.jobs };
  const names = new Set<string>();
  for (const module of toolsets) {
    if (names.has(module.name)) throw new Error(`two toolsets are named ${module.name}`);
    names.add(module.name);
    for (const tool of module.tools) {
      if (toolByName.has(tool.name)) throw new Error(`two tools are named ${tool.name}`);
      if (tool.toolset !== module.name)
        throw new Error(`${tool.name} says toolset ${tool.toolset}, not ${module.name}`);
      toolByName.set(tool.name, tool);
    }
    for (const [type, handler] of Object.entries(module.jobs ?? {})) {
      if (type in jobs) throw new Error(`two handlers for job type ${type}`);
      jobs[type] = handler;
    }
  }
  return {
    toolsets,
    tools: [...toolByName.values()],
    toolsetNames: toolsets.map((module) => module.name),
    defaultToolsets: toolsets.filter((module) => module.isDefault).map((module) => module.name),
    catalog: new Map(toolsets.map((module) => [module.name, module.tools.map((tool) => tool.name)])),
    toolByName,
    jobs,
    crons: mergeCronTables([platform.crons, ...toolsets.map((module) => module.crons ?? {})]),
    routes: [...platform.routes, ...toolsets.flatMap((module) => (module.routes ? [module.routes] : []))],
  };
}
