# Tests of the example policy (policies/example.rego): `igctl policy test policies`.
package intentgate.policy_test

import data.intentgate.policy

# A call as igd builds its input (DESIGN §4.3); each test changes only what it is about.
call := {
	"method": "tools/call",
	"tool": "echo",
	"args": {"message": "hello"},
	"tenant": "acme",
	"agent": {
		"subject": "agent-a",
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

email(sent_this_hour) := object.union(call, {
	"tool": "send_email_internal",
	"args": {"to": "bob@acme.example"},
	"agent": {"calls_this_hour": sent_this_hour},
})

test_read_tools_are_allowed if {
	every tool in ["echo", "read_invoice", "get-sum", "get-tiny-image", "fail_tool"] {
		d := policy.decision with input as object.union(call, {"tool": tool})
		d.allow == true
		d.reason == "read-only tool"
	}
}

test_email_within_the_hourly_allowance_is_allowed if {
	every n in [0, 49] {
		d := policy.decision with input as email(n)
		d.allow == true
	}
}

test_email_over_the_hourly_allowance_is_blocked if {
	every n in [50, 51, 1000] {
		d := policy.decision with input as email(n)
		d.allow == false
		not d.escalate
		d.reason == "hourly email allowance used up"
	}
}

test_email_without_counter_is_denied if {
	no_counter := object.union(object.remove(email(0), ["agent"]), {"agent": object.remove(call.agent, ["calls_this_hour"])})
	d := policy.decision with input as no_counter
	d.allow == false
	d.reason == "tool is not covered by the policy"
}

test_destructive_tools_are_escalated_with_step_up if {
	every tool in ["delete_records", "delete", "deleteUser"] {
		d := policy.decision with input as object.union(call, {"tool": tool})
		d.allow == false
		d.escalate == true
		d.requires_step_up == true
	}
}

test_other_tools_are_denied if {
	every tool in ["send_email", "undelete", "ECHO", ""] {
		d := policy.decision with input as object.union(call, {"tool": tool})
		d.allow == false
		not d.escalate
		d.reason == "tool is not covered by the policy"
	}
}
