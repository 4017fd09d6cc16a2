package intentgate.policy

# Example policy: reads are allowed, internal email is allowed during business hours only,
# destructive tools need a human, and anything else is denied with a reason.

default decision := {"allow": false, "reason": "tool is not covered by the policy"}

read_tools := {"echo", "read_invoice", "get-sum", "get-tiny-image", "fail_tool"}

decision := {"allow": true, "reason": "read-only tool"} if {
	read_tools[input.tool]
}

decision := {"allow": true, "reason": "internal email within the hourly allowance"} if {
	input.tool == "send_email_internal"
	input.agent.calls_this_hour < 50
}

decision := {"allow": false, "reason": "hourly email allowance used up"} if {
	input.tool == "send_email_internal"
	input.agent.calls_this_hour >= 50
}

decision := {"allow": false, "escalate": true, "requires_step_up": true, "reason": "destructive tool needs a human approval"} if {
	startswith(input.tool, "delete")
}
