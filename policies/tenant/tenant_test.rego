# Tests of the tenant policy: `igctl policy test policies/tenant`.
package intentgate.policy_test

import data.intentgate.policy

# A call as igd builds its input (DESIGN §4.3); each test changes only what it is about.
call := {
	"method": "tools/call",
	"tool": "read_invoice",
	"args": {"invoice_id": "INV-1001"},
	"tenant": "acme",
	"agent": {
		"subject": "agent-billing",
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

as_tenant(tenant, tool, time) := object.union(call, {"tenant": tenant, "tool": tool, "request": {"time": time}})

# The decision for a tenant's call during the day.
decide(tenant, tool) := d if {
	d := policy.decision with input as as_tenant(tenant, tool, "2026-11-25T10:00:00Z")
}

test_acme_reads_invoices if {
	d := decide("acme", "read_invoice")
	d.allow == true
	d.reason == "read_invoice is allowed for tenant acme"
}

test_acme_sends_internal_email if {
	decide("acme", "send_email_internal").allow == true
}

test_globex_email_needs_approval if {
	d := decide("globex", "send_email_internal")
	d.allow == false
	d.escalate == true
	d.reason == "send_email_internal needs a human's approval for tenant globex"
}

test_refunds_need_approval_everywhere if {
	every tenant in ["acme", "globex"] {
		decide(tenant, "refund_order").escalate == true
	}
}

test_same_tool_differs_by_tenant if {
	decide("acme", "list_orders").allow == true
	d := decide("globex", "list_orders")
	d.allow == false
	not d.escalate
	d.reason == "list_orders is not allowed for tenant globex"
}

test_unknown_tenant_is_denied if {
	d := decide("initech", "read_invoice")
	d.allow == false
	d.reason == "tenant initech has no rules in this policy"
}

test_tenant_name_is_exact if {
	decide("ACME", "read_invoice").allow == false
}

test_globex_within_hours if {
	d := policy.decision with input as as_tenant("globex", "read_invoice", "2026-11-25T08:00:00Z")
	d.allow == true
	d2 := policy.decision with input as as_tenant("globex", "read_invoice", "2026-11-25T17:59:59Z")
	d2.allow == true
}

test_globex_outside_hours if {
	every time in ["2026-11-25T07:59:59Z", "2026-11-25T18:00:00Z", "2026-11-25T23:30:00Z"] {
		d := policy.decision with input as as_tenant("globex", "read_invoice", time)
		d.allow == false
		not d.escalate
		d.reason == "outside tenant globex's working hours (8:00 to 18:00 UTC)"
	}
}

test_globex_hours_are_utc if {
	# 09:30 at UTC+02:00 is 07:30 UTC: before globex's hours.
	d := policy.decision with input as as_tenant("globex", "read_invoice", "2026-11-25T09:30:00+02:00")
	d.allow == false
}

test_globex_approval_waits_for_working_hours if {
	d := policy.decision with input as as_tenant("globex", "send_email_internal", "2026-11-25T22:00:00Z")
	d.allow == false
	not d.escalate
}

test_acme_works_around_the_clock if {
	d := policy.decision with input as as_tenant("acme", "read_invoice", "2026-11-25T03:00:00Z")
	d.allow == true
}

test_missing_tenant_is_denied if {
	d := policy.decision with input as object.remove(call, ["tenant"])
	d.allow == false
}
