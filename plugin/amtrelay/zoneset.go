package amtrelay

// zoneSet finds the zone a name is in at a cost that does not grow with
// the number of zones: a server block for a hundred thousand /24 source
// prefixes serves a hundred thousand reverse zones. A short list is
// scanned (faster than hashing); a long one is looked up by the name's
// ancestors, at most one map lookup per label.
type zoneSet struct {
	list []string
	set  map[string]struct{}
}

// zoneScanLimit is the longest list scanned rather than looked up.
const zoneScanLimit = 8

func newZoneSet(zones []string) zoneSet {
	zs := zoneSet{list: zones}
	if len(zones) > zoneScanLimit {
		zs.set = make(map[string]struct{}, len(zones))
		for _, z := range zones {
			zs.set[z] = struct{}{}
		}
	}
	return zs
}

// match returns the longest zone that qname is in, or "". Names and
// zones are lowercase and fully qualified.
func (zs zoneSet) match(qname string) string {
	if zs.set == nil {
		return matchZone(zs.list, qname)
	}
	// qname, then each ancestor: the suffixes that start after an
	// unescaped dot, longest first.
	if _, ok := zs.set[qname]; ok {
		return qname
	}
	for i := 0; i < len(qname)-1; i++ {
		if qname[i] == '.' && !escaped(qname, i) {
			if _, ok := zs.set[qname[i+1:]]; ok {
				return qname[i+1:]
			}
		}
	}
	if _, ok := zs.set["."]; ok {
		return "."
	}
	return ""
}

// hasAncestor reports whether a proper ancestor of zone is in the set.
func (zs zoneSet) hasAncestor(zone string) bool {
	for i := 0; i < len(zone)-1; i++ {
		if zone[i] == '.' && !escaped(zone, i) {
			if zs.contains(zone[i+1:]) {
				return true
			}
		}
	}
	return zone != "." && zs.contains(".")
}

func (zs zoneSet) contains(z string) bool {
	if zs.set == nil {
		for _, l := range zs.list {
			if l == z {
				return true
			}
		}
		return false
	}
	_, ok := zs.set[z]
	return ok
}
