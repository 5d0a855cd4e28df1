import { Hono } from "hono";
import { VERSION } from "../../version";
import type { Routes } from "../toolset";
import { authorizeRoutes } from "./login";
import { pingDatabase } from "./queries";

/** Routes outside `/mcp`: health check, OAuth login/consent, and the routes given (webhooks, pages). */
export function createApp(routes: readonly Routes[]): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>();
  app.get("/healthz", async (c) => {
    await pingDatabase(c.env.DB);
    return c.json({ status: "ok", version: VERSION });
  });
  app.route("/", authorizeRoutes);
  for (const route of routes) app.route("/", route);
  return app;
}
