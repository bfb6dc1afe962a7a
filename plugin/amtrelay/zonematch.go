package amtrelay

// matchZone returns the longest of zones that qname is in, or "". Names
// and zones are lowercase and fully qualified. It is plugin.Zones.Matches
// without its allocations, which show on every query.
func matchZone(zones []string, qname string) string {
	best := ""
	for _, z := range zones {
		if len(z) > len(best) && inZone(qname, z) {
			best = z
		}
	}
	return best
}

// inZone reports whether name is zone or below it.
func inZone(name, zone string) bool {
	if zone == "." {
		return true
	}
	n := len(name) - len(zone)
	return n >= 0 && name[n:] == zone && (n == 0 || name[n-1] == '.')
}
