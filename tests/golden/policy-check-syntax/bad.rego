package intentgate.policy

# A syntax error: the colon after "reason" is missing.
decision := {"allow": true, "reason" "ok"}
