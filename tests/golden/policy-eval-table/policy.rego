package intentgate.policy

default decision := {"allow": false, "reason": "not covered"}

decision := {"allow": true, "reason": sprintf("%s may read", [input.agent.subject])} if input.tool == "read_invoice"
