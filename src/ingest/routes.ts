import { Hono } from "hono";
import { receiveWebhook } from "./receiver";

/**
 * Signed webhook receivers: `POST /webhooks/<provider>/<integration id>`. The integration id
 * alone decides the workspace and the secret; nothing in the payload does.
 */
export const webhookRoutes = new Hono<{ Bindings: Env }>();

webhookRoutes.post("/webhooks/:provider/:integrationId", (c) =>
  receiveWebhook(c.env, c.req.param("provider"), c.req.param("integrationId"), c.req.raw),
);
