"""A real MCP upstream for igd's end-to-end tests: the Python SDK's MCPServer (serves both eras).

Usage: upstream_server.py PORT
Tools: echo, read_invoice, send_email_internal, delete_records, fail_tool, confirm (asks the
client through elicitation).
Every call is appended to $CALL_LOG (one JSON line) so tests can prove what reached upstream;
with $MESSAGE_LOG set, every POSTed body is appended there too (one line each), whatever the
server then makes of it.
"""

import json
import os
import sys

from pydantic import BaseModel

from mcp.server.mcpserver import Context, MCPServer

port = int(sys.argv[1])
server = MCPServer("e2e-upstream")
call_log = os.environ.get("CALL_LOG")


def record(tool, args):
    if call_log:
        with open(call_log, "a") as f:
            f.write(json.dumps({"tool": tool, "args": args}) + "\n")


@server.tool()
def echo(message: str) -> str:
    """Echo a message back."""
    record("echo", {"message": message})
    return f"echo: {message}"


@server.tool()
def read_invoice(invoice_id: str) -> str:
    """Read an invoice."""
    record("read_invoice", {"invoice_id": invoice_id})
    return f"invoice {invoice_id}: 42.00 EUR"


@server.tool()
def send_email_internal(to: str, body: str) -> str:
    """Send an internal email."""
    record("send_email_internal", {"to": to})
    return f"sent to {to}"


@server.tool()
def delete_records(table: str) -> str:
    """Delete every record of a table."""
    record("delete_records", {"table": table})
    return f"deleted {table}"


@server.tool()
def fail_tool() -> str:
    """Always fails with a tool error."""
    record("fail_tool", {})
    raise ValueError("this tool always fails")


class Confirmation(BaseModel):
    ok: bool


@server.tool()
async def confirm(question: str, ctx: Context) -> str:
    """Ask the client to confirm (elicitation), then answer with what it said."""
    record("confirm", {"question": question})
    answer = await ctx.elicit(message=question, schema=Confirmation)
    if answer.action == "accept":
        return f"confirmed: {answer.data.ok}"
    return f"not confirmed: {answer.action}"


def recording(app, path):
    """ASGI wrapper logging every POST body before the MCP app sees it."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await app(scope, receive, send)
        received = []
        while True:
            msg = await receive()
            received.append(msg)
            if msg["type"] != "http.request" or not msg.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in received if m["type"] == "http.request")
        with open(path, "a") as f:
            f.write(body.decode("utf-8", "replace").replace("\n", " ") + "\n")
        pending = list(received)

        async def replay():
            if pending:
                return pending.pop(0)
            return await receive()

        await app(scope, replay, send)

    return wrapped


message_log = os.environ.get("MESSAGE_LOG")
if message_log:
    import uvicorn

    app = recording(server.streamable_http_app(), message_log)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
else:
    server.run("streamable-http", host="127.0.0.1", port=port)
