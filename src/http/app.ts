import { Hono } from "hono";
import { VERSION } from "../version";
import { authorizeRoutes } from "./login";
import { outboxRoutes } from "./outbox";
import { surveyRoutes } from "./survey";
import { webhookRoutes } from "./webhooks";

/** Routes outside `/mcp`: health check, OAuth login/consent, webhooks. */
export const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", async (c) => {
  await c.env.DB.prepare("SELECT 1").first();
  return c.json({ status: "ok", version: VERSION });
});

app.route("/", authorizeRoutes);
app.route("/", webhookRoutes);
app.route("/", outboxRoutes);
app.route("/", surveyRoutes);
