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

// inZone reports whether name is zone or below it, by labels: a dot that
// a label holds (written "\." in presentation form, as miekg/dns gives a
// wire label such as "12.100") is no label boundary. plugin.Zones.Matches
// compares strings and would take 12\.100.51.198.in-addr.arpa. for a name
// in 100.51.198.in-addr.arpa.
func inZone(name, zone string) bool {
	if zone == "." {
		return true
	}
	n := len(name) - len(zone)
	return n >= 0 && name[n:] == zone && (n == 0 || name[n-1] == '.' && !escaped(name, n-1))
}

// escaped reports whether the byte at i of a presentation-form name is
// escaped: preceded by an odd number of backslashes.
func escaped(name string, i int) bool {
	k := 0
	for i-k-1 >= 0 && name[i-k-1] == '\\' {
		k++
	}
	return k%2 == 1
}
