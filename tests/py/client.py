"""A real MCP client for igd's end-to-end tests: the Python SDK (2026-07-28 era first).

Usage: client.py URL TOKEN SCRIPT_JSON
SCRIPT_JSON is a list of steps: {"op": "list"} or {"op": "call", "tool": T, "args": {...}}.
Prints one JSON line per step: {"ok": true, "result": ...} or {"ok": false, "code": C, "message": M, "data": D}.
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError


async def main():
    url, token, script = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    out = []
    async with Client(streamable_http_client(url, http_client=http)) as c:
        for step in script:
            try:
                if step["op"] == "list":
                    r = await c.list_tools()
                    out.append({"ok": True, "result": sorted(t.name for t in r.tools)})
                elif step["op"] == "call":
                    r = await c.call_tool(step["tool"], step.get("args", {}))
                    text = [getattr(b, "text", None) for b in r.content]
                    out.append({"ok": True, "result": {"text": text, "isError": bool(r.is_error)}})
                elif step["op"] == "session":
                    # The 2026-07-28 era has no sessions.
                    out.append({"ok": True, "result": None})
                elif step["op"] == "version":
                    out.append({"ok": True, "result": c.protocol_version})
            except MCPError as e:
                err = e.error
                out.append({"ok": False, "code": err.code, "message": err.message, "data": err.data})
    for line in out:
        print(json.dumps(line))


asyncio.run(main())
