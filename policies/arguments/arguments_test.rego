# Tests of the arguments policy: `igctl policy test policies/arguments`.
package intentgate.policy_test

import data.intentgate.policy

# A call as igd builds its input (DESIGN §4.3); each test changes only what it is about.
call := {
	"method": "tools/call",
	"tool": "read_invoice",
	"args": {},
	"tenant": "acme",
	"agent": {
		"subject": "agent-ops",
		"delegated_subject": null,
		"jti": "0000000000000000000000000000000a",
		"root_jti": "0000000000000000000000000000000a",
		"chain": ["0000000000000000000000000000000a"],
		"depth": 0,
		"calls_today": 3,
		"calls_today_for_tool": 1,
		"calls_this_hour": 1,
	},
	"capability": {"tools": ["*"], "max_calls": 1000, "remaining_calls": 997, "expires_at": "2026-12-01T00:00:00Z"},
	"intent": null,
	"request": {"time": "2026-11-25T10:00:00Z", "remote_addr": "10.0.0.7", "protocol_version": "2025-11-25"},
}

# The decision for `tool` called with exactly `args`.
decide(tool, args) := d if {
	d := policy.decision with input as object.union(object.remove(call, ["args"]), {"tool": tool, "args": args})
}

# --- the tool list

test_listed_tool_is_allowed if {
	d := decide("read_invoice", {"invoice_id": "INV-1"})
	d.allow == true
	d.reason == "read_invoice is allowed"
}

test_unlisted_tool_is_denied if {
	d := decide("drop_database", {})
	d.allow == false
	not d.escalate
	d.reason == "drop_database is not an allowed tool"
}

# --- delete_records

test_delete_with_a_filter_is_allowed if {
	d := decide("delete_records", {"table": "orders", "where": {"status": "cancelled"}})
	d.allow == true
}

test_delete_from_users_is_blocked if {
	d := decide("delete_records", {"table": "users", "where": {"id": 7}})
	d.allow == false
	not d.escalate
	d.reason == "deleting records from users is not allowed"
}

test_delete_from_users_in_any_case_or_spacing_is_blocked if {
	every table in ["USERS", "Users", " users ", "users\n"] {
		d := decide("delete_records", {"table": table, "where": {"id": 7}})
		d.allow == false
		not d.escalate
	}
}

test_delete_from_users_without_filter_is_blocked_not_escalated if {
	d := decide("delete_records", {"table": "users"})
	d.allow == false
	not d.escalate
}

test_delete_everything_needs_approval if {
	d := decide("delete_records", {"table": "orders"})
	d.allow == false
	d.escalate == true
	contains(d.reason, "needs a human's approval")
}

test_delete_without_table_is_blocked if {
	every args in [{}, {"where": {"id": 1}}, {"table": null}, {"table": ["users"]}, {"table": 42}] {
		d := decide("delete_records", args)
		d.allow == false
		not d.escalate
		d.reason == "delete_records must name its table (args.table)"
	}
}

test_delete_without_args_is_blocked if {
	d := policy.decision with input as object.union(object.remove(call, ["args"]), {"tool": "delete_records"})
	d.allow == false
	not d.escalate
}

# --- send_email*

test_internal_recipient_is_allowed if {
	d := decide("send_email", {"to": "bob@acme.example", "subject": "hi"})
	d.allow == true
	d.reason == "send_email to internal recipients only"
}

test_domain_is_compared_without_case if {
	decide("send_email", {"to": "Bob@ACME.Example"}).allow == true
	decide("send_email_internal", {"to": ["ann@Corp.Acme.Example"]}).allow == true
}

test_every_listed_internal_domain_is_allowed if {
	d := decide("send_email_internal", {"to": ["ann@acme.example", "joe@corp.acme.example"], "cc": "sue@acme.example"})
	d.allow == true
}

test_external_recipient_is_blocked if {
	d := decide("send_email", {"to": "eve@evil.example"})
	d.allow == false
	not d.escalate
	d.reason == "send_email to recipients outside acme.example, corp.acme.example: eve@evil.example"
}

test_one_external_recipient_among_internal_ones_is_blocked if {
	d := decide("send_email_internal", {"to": ["bob@acme.example", "eve@evil.example"]})
	d.allow == false
	endswith(d.reason, ": eve@evil.example")
}

test_external_cc_and_bcc_are_blocked if {
	decide("send_email", {"to": "bob@acme.example", "cc": "eve@evil.example"}).allow == false
	decide("send_email", {"to": "bob@acme.example", "bcc": ["eve@evil.example"]}).allow == false
}

test_lookalike_domains_are_blocked if {
	every address in [
		"bob@acme.example.evil.example",
		"bob@evilacme.example",
		"bob@sub.acme.example",
		"bob@evil.example@acme.example",
		"Bob <bob@acme.example>",
		"@acme.example",
		"bob",
	] {
		d := decide("send_email", {"to": address})
		d.allow == false
	}
}

test_missing_recipients_are_blocked if {
	every args in [{}, {"to": []}, {"subject": "no one"}] {
		d := decide("send_email", args)
		d.allow == false
		d.reason == "send_email needs at least one recipient (args.to)"
	}
}

test_malformed_recipients_are_blocked if {
	every args in [{"to": 42}, {"to": {"address": "bob@acme.example"}}, {"to": ["bob@acme.example", 7]}, {"to": "bob@acme.example", "cc": null}] {
		d := decide("send_email", args)
		d.allow == false
		contains(d.reason, "must be an address or a list of addresses")
	}
}

test_unlisted_email_tool_is_denied if {
	d := decide("send_email_bulk", {"to": "bob@acme.example"})
	d.allow == false
	d.reason == "send_email_bulk is not an allowed tool"
}
