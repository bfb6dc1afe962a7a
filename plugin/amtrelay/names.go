package amtrelay

import (
	"strings"

	"github.com/miekg/dns"
)

// node is what the plugin knows of one name in its zones.
type node struct {
	exists bool
	apex   bool
	// static are the zonefile's records at the name (kind staticName).
	static []staticRelay
	// group serves the address the name stands for, when it is a whole
	// address inside a configured prefix (or a label below that name).
	group *group
	// kind says which name of that address it is.
	kind nameKind
}

// nameKind tells the names the plugin answers for a source address apart.
type nameKind int

const (
	sourceName  nameKind = iota // <reverse name>: AMTRELAY
	seedName                    // amt.<reverse name>: A, AAAA (seed procedure)
	explainName                 // _explain.<reverse name>: TXT, with `explain`
	staticName                  // an owner in the zonefile: its AMTRELAY records
)

// needsRanking reports whether an answer of qtype at n lists relays (or
// says there is none), so that the policy must run.
func (n node) needsRanking(qtype uint16) bool {
	if n.group == nil {
		return false
	}
	if qtype == dns.TypeANY {
		return true
	}
	switch n.kind {
	case seedName:
		return qtype == dns.TypeA || qtype == dns.TypeAAAA
	case explainName:
		return qtype == dns.TypeTXT
	}
	return qtype == dns.TypeAMTRELAY
}

// lookup classifies qname, a lowercase name in zone.
func (a *AMTRelay) lookup(qname, zone string) node {
	n := node{apex: qname == zone}
	if rrs, ok := a.zonefile.lookup(qname); ok {
		// The zonefile's names come first: an owner there is answered
		// from the file, an empty non-terminal above one exists.
		n.static, n.kind, n.exists = rrs, staticName, true
		return n
	}
	for _, sub := range []struct {
		label string
		kind  nameKind
	}{{seedLabel, seedName}, {explainLabel, explainName}} {
		if sub.kind == explainName && !a.explain {
			continue
		}
		rest, ok := strings.CutPrefix(qname, sub.label)
		if !ok {
			continue
		}
		if p, ok := parseReverse(rest); ok && p.Bits() == fullLength(p) && inZone(rest, zone) {
			n.group, _ = a.sources.lookup(p.Addr())
			n.kind = sub.kind
			n.exists = n.group != nil || n.apex
			return n
		}
	}
	p, ok := parseReverse(qname)
	switch {
	case !ok:
	case p.Bits() == fullLength(p):
		n.group, _ = a.sources.lookup(p.Addr())
		n.exists = n.group != nil
	default:
		n.exists = a.sources.exists(p)
	}
	n.exists = n.exists || n.apex
	return n
}
