# Tests of the baseline policy: `igctl policy test policies/baseline`.
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
		"jti": "0000000000000000000000000000000b",
		"root_jti": "0000000000000000000000000000000a",
		"chain": ["0000000000000000000000000000000a", "0000000000000000000000000000000b"],
		"depth": 1,
		"calls_today": 12,
		"calls_today_for_tool": 0,
		"calls_this_hour": 2,
	},
	"capability": {
		"tools": ["read_invoice", "send_email_internal"],
		"max_calls": 1000,
		"remaining_calls": 988,
		"expires_at": "2026-12-01T00:00:00Z",
	},
	"intent": null,
	"request": {"time": "2026-11-25T10:00:00Z", "remote_addr": "10.0.0.7", "protocol_version": "2025-11-25"},
}

email(sent_today) := object.union(call, {
	"tool": "send_email_internal",
	"args": {"to": "bob@acme.example", "subject": "Invoice INV-1001"},
	"agent": {"calls_today_for_tool": sent_today},
})

test_read_invoice_is_allowed if {
	d := policy.decision with input as call
	d.allow == true
	d.reason == "read-only tool"
}

test_read_invoice_ignores_counters if {
	busy := object.union(call, {"agent": {"calls_today": 100000, "calls_today_for_tool": 100000}})
	d := policy.decision with input as busy
	d.allow == true
}

test_first_email_of_the_day_is_allowed if {
	d := policy.decision with input as email(0)
	d.allow == true
	d.reason == "internal email 1 of 20 allowed today"
	not d.escalate
}

test_last_email_within_quota_is_allowed if {
	d := policy.decision with input as email(19)
	d.allow == true
	d.reason == "internal email 20 of 20 allowed today"
}

test_email_over_quota_is_escalated_with_step_up if {
	d := policy.decision with input as email(20)
	d.allow == false
	d.escalate == true
	d.requires_step_up == true
	contains(d.reason, "a human must approve")
}

test_email_far_over_quota_is_still_escalated if {
	d := policy.decision with input as email(5000)
	d.escalate == true
}

test_email_without_counter_is_denied if {
	no_counter := object.union(object.remove(email(0), ["agent"]), {"agent": object.remove(call.agent, ["calls_today_for_tool"])})
	d := policy.decision with input as no_counter
	d.allow == false
	not d.escalate
	startswith(d.reason, "denied: the call matches no rule")
}

test_other_tools_are_denied_with_their_name if {
	d := policy.decision with input as object.union(call, {"tool": "delete_records"})
	d.allow == false
	not d.escalate
	d.reason == "delete_records is not allowed by the baseline policy"
}

test_lookalike_tool_names_are_denied if {
	every tool in ["READ_INVOICE", "read_invoice ", "send_email", "send_email_internal2"] {
		d := policy.decision with input as object.union(call, {"tool": tool})
		d.allow == false
		not d.escalate
	}
}

test_missing_tool_is_denied if {
	d := policy.decision with input as object.remove(call, ["tool"])
	d.allow == false
}
