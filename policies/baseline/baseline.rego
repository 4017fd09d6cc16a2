# Baseline policy: the rules IntentGate starts from.
#
#   - read_invoice is allowed;
#   - send_email_internal is allowed up to a daily quota per agent; above it, each further
#     email needs a human's approval with step-up authentication;
#   - every other tool is denied, with a reason.
#
# igd evaluates `decision` for every tools/call (input: DESIGN §4.3). `escalate: true` asks a
# human (the approvals queue); undefined, an error or a conflict between rules blocks the call.
package intentgate.policy

# Internal emails one agent (tenant and root subject) may send per UTC day before a human must
# approve each further one. igd counts the calls it forwarded today, not the one being decided.
email_daily_quota := 20

# Tools allowed without conditions.
read_tools := {"read_invoice"}

# Also the answer when a counter the rules need is missing from the input: fail closed.
default decision := {"allow": false, "reason": "denied: the call matches no rule of the baseline policy"}

decision := {"allow": true, "reason": "read-only tool"} if {
	input.tool in read_tools
}

decision := {"allow": true, "reason": reason} if {
	input.tool == "send_email_internal"
	sent := input.agent.calls_today_for_tool
	sent < email_daily_quota
	reason := sprintf("internal email %d of %d allowed today", [sent + 1, email_daily_quota])
}

decision := {
	"allow": false,
	"escalate": true,
	"requires_step_up": true,
	"reason": sprintf("daily quota of %d internal emails reached: a human must approve", [email_daily_quota]),
} if {
	input.tool == "send_email_internal"
	input.agent.calls_today_for_tool >= email_daily_quota
}

decision := {"allow": false, "reason": sprintf("%s is not allowed by the baseline policy", [input.tool])} if {
	not input.tool in read_tools
	input.tool != "send_email_internal"
}
