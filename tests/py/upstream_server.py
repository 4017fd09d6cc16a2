"""A real MCP upstream for igd's end-to-end tests: the Python SDK's MCPServer (serves both eras).

Usage: upstream_server.py PORT
Tools: echo, read_invoice, send_email_internal, delete_records, fail_tool.
Every call is appended to $CALL_LOG (one JSON line) so tests can prove what reached upstream.
"""

import json
import os
import sys

from mcp.server.mcpserver import MCPServer

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


server.run("streamable-http", host="127.0.0.1", port=port)
