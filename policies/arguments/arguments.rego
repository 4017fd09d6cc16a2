# Argument-inspecting policy: the tool list says what an agent may call, the arguments say
# whether this particular call is safe.
#
#   - delete_records: never on a protected table; deleting every row (no args.where) needs a
#     human's approval;
#   - send_email*: every recipient (to, cc, bcc) must be in an internal domain;
#   - other listed tools are allowed; tools not listed are denied.
#
# Arguments come from the agent: a missing or malformed argument blocks the call.
package intentgate.policy

allowed_tools := {"read_invoice", "list_orders", "delete_records", "send_email", "send_email_internal"}

# Recipients' domains that count as internal (compared in lower case, exactly: a subdomain must
# be listed itself).
internal_domains := {"acme.example", "corp.acme.example"}

# Tables no agent may delete from (compared in lower case, surrounding spaces ignored).
protected_tables := {"users"}

default decision := {"allow": false, "reason": "denied: the call matches no rule of the arguments policy"}

decision := {"allow": false, "reason": sprintf("%s is not an allowed tool", [input.tool])} if {
	not input.tool in allowed_tools
}

decision := deletion if {
	input.tool == "delete_records"
}

decision := email if {
	input.tool in allowed_tools
	startswith(input.tool, "send_email")
}

decision := {"allow": true, "reason": sprintf("%s is allowed", [input.tool])} if {
	input.tool in allowed_tools
	input.tool != "delete_records"
	not startswith(input.tool, "send_email")
}

# --- delete_records

deletion := {"allow": false, "reason": "delete_records must name its table (args.table)"} if {
	not is_string(input.args.table)
} else := {"allow": false, "reason": sprintf("deleting records from %s is not allowed", [input.args.table])} if {
	lower(trim_space(input.args.table)) in protected_tables
} else := {
	"allow": false,
	"escalate": true,
	"reason": sprintf("deleting every record of %s (no args.where) needs a human's approval", [input.args.table]),
} if {
	not input.args.where
} else := {"allow": true, "reason": sprintf("deleting some records of %s", [input.args.table])}

# --- send_email*

recipient_fields := ["to", "cc", "bcc"]

# Every recipient named by the call: a field holds one address or a list of them.
recipients contains address if {
	some field in recipient_fields
	address := input.args[field]
	is_string(address)
}

recipients contains address if {
	some field in recipient_fields
	is_array(input.args[field])
	some address in input.args[field]
	is_string(address)
}

# A recipient field that is neither an address nor a list of addresses.
malformed_recipients contains field if {
	some field in recipient_fields
	value := input.args[field]
	not is_string(value)
	not all_strings(value)
}

all_strings(values) if {
	is_array(values)
	every v in values {
		is_string(v)
	}
}

internal(address) if {
	parts := split(trim_space(address), "@")
	count(parts) == 2
	parts[0] != ""
	lower(parts[1]) in internal_domains
}

external contains address if {
	some address in recipients
	not internal(address)
}

email := {"allow": false, "reason": sprintf("%s: args.%s must be an address or a list of addresses", [input.tool, concat(", args.", sort(malformed_recipients))])} if {
	count(malformed_recipients) > 0
} else := {"allow": false, "reason": sprintf("%s needs at least one recipient (args.to)", [input.tool])} if {
	count(recipients) == 0
} else := {"allow": false, "reason": sprintf("%s to recipients outside %s: %s", [input.tool, concat(", ", sort(internal_domains)), concat(", ", sort(external))])} if {
	count(external) > 0
} else := {"allow": true, "reason": sprintf("%s to internal recipients only", [input.tool])}
