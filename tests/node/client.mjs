// A real MCP client for igd's end-to-end tests: the TypeScript SDK (2025 session era).
// Usage: node client.mjs URL TOKEN SCRIPT_JSON   (steps as in py/client.py)
// Prints one JSON line per step.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token, scriptText, sessionId] = process.argv.slice(2);
const script = JSON.parse(scriptText);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
  sessionId: sessionId || undefined,
});
const client = new Client({ name: "intentgate-e2e", version: "1.0.0" });
const out = [];
try {
  await client.connect(transport);
  for (const step of script) {
    try {
      if (step.op === "list") {
        const r = await client.listTools();
        out.push({ ok: true, result: r.tools.map((t) => t.name).sort() });
      } else if (step.op === "call") {
        const r = await client.callTool({ name: step.tool, arguments: step.args || {} });
        out.push({ ok: true, result: { text: (r.content || []).map((c) => c.text ?? null), isError: !!r.isError } });
      } else if (step.op === "version") {
        out.push({ ok: true, result: transport.protocolVersion ?? null });
      } else if (step.op === "session") {
        out.push({ ok: true, result: transport.sessionId ?? null });
      }
    } catch (e) {
      out.push({ ok: false, code: e.code ?? null, message: String(e.message ?? e), data: e.data ?? null });
    }
  }
} catch (e) {
  out.push({ ok: false, connect: true, code: e.code ?? null, message: String(e.message ?? e) });
}
for (const line of out) console.log(JSON.stringify(line));
await transport.close().catch(() => {});
process.exit(0);
