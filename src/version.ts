import pkg from "../package.json";

/** The server version reported by `/healthz` and the MCP `initialize` answer. */
export const VERSION: string = pkg.version;
