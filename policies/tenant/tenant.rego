# Tenant-scoped policy: one gateway, several tenants, each with its own rules.
#
# A tenant lists the tools its agents may call, the tools that need a human's approval, and
# optionally the UTC hours its agents may work. A tenant missing from `tenants` is denied
# whatever it calls. The tenant is the one signed into the agent's token (input.tenant).
package intentgate.policy

tenants := {
	"acme": {
		"allowed": {"read_invoice", "list_orders", "send_email_internal"},
		"needs_approval": {"refund_order"},
	},
	"globex": {
		"allowed": {"read_invoice"},
		"needs_approval": {"send_email_internal", "refund_order"},
		# Calls are allowed from 08:00 to 18:00 UTC, judged on the request's time.
		"hours_utc": [8, 18],
	},
}

default decision := {"allow": false, "reason": "denied: the call matches no rule of the tenant policy"}

decision := {"allow": false, "reason": sprintf("tenant %s has no rules in this policy", [input.tenant])} if {
	not tenants[input.tenant]
}

decision := {"allow": false, "reason": sprintf("outside tenant %s's working hours (%d:00 to %d:00 UTC)", [input.tenant, start, end])} if {
	cfg := tenants[input.tenant]
	[start, end] := cfg.hours_utc
	not within_hours(cfg)
}

decision := {"allow": true, "reason": sprintf("%s is allowed for tenant %s", [input.tool, input.tenant])} if {
	cfg := tenants[input.tenant]
	within_hours(cfg)
	input.tool in cfg.allowed
}

decision := {
	"allow": false,
	"escalate": true,
	"reason": sprintf("%s needs a human's approval for tenant %s", [input.tool, input.tenant]),
} if {
	cfg := tenants[input.tenant]
	within_hours(cfg)
	input.tool in cfg.needs_approval
}

decision := {"allow": false, "reason": sprintf("%s is not allowed for tenant %s", [input.tool, input.tenant])} if {
	cfg := tenants[input.tenant]
	within_hours(cfg)
	not input.tool in cfg.allowed
	not input.tool in cfg.needs_approval
}

# A tenant without hours works around the clock.
within_hours(cfg) if not cfg.hours_utc

# The request's time is the one igd recorded for the call (input.request.time): decisions
# never read the clock, so a dry-run replays them exactly.
within_hours(cfg) if {
	[start, end] := cfg.hours_utc
	[hour, _, _] := time.clock(time.parse_rfc3339_ns(input.request.time))
	start <= hour
	hour < end
}
