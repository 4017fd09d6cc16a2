package intentgate.policy

# Reads the clock: the decision could not be replayed.
decision := {"allow": hour < 18} if {
	[hour, _, _] := time.clock(time.now_ns())
}
