package amtrelay

import (
	"fmt"
	"math"
	"strconv"
)

// explainLabel starts the name of the debug answer for a source:
// _explain.<reverse name> TXT, with `explain` in the Corefile.
const explainLabel = "_explain."

// explainLines says why the client got its answer: where the client is,
// each chosen relay's distance, load, score and rank, and the ECS scope.
// It is the TXT debug answer and, with the debug plugin, the log line.
func explainLines(rq *dnsRequest) []string {
	g, cl, rk := rq.node.group, &rq.client, &rq.ranking
	from := "resolver"
	if cl.viaECS {
		from = "ECS"
	}
	where := "location unknown"
	switch {
	case cl.loc.known:
		lat, lon := cl.loc.point().latLon()
		where = fmt.Sprintf("location %.4f,%.4f", lat, lon)
	case cl.unknownReason != "":
		where = "location unknown (" + cl.unknownReason + ")"
	case !cl.lookedUp:
		where = "location not needed"
	}
	if cl.loc.network.IsValid() {
		where += " GeoIP network " + cl.loc.network.String()
	}
	lines := []string{fmt.Sprintf("client %s (%s) %s; policy %s; ECS scope /%d", cl.addr, from, where, g.spec.text, rq.ecsScope())}
	if rk.configured {
		return append(lines, "answer: no relay (0 0 0 .), as configured for this source")
	}
	if rk.fallback != "" {
		lines = append(lines, "fallback: "+rk.fallback)
	}
	if rk.noRelay {
		lines = append(lines, "answer: no relay (0 0 0 .)")
	}
	for i, c := range rk.chosen {
		line := fmt.Sprintf("rank %d precedence %d relay %s (%s): distance %s load %s score %s",
			i+1, c.precedence, c.relay.name, c.relay.value(),
			orUnknown(c.distanceKm, "%.0f km"), orUnknown(c.utilisation, "%.2f"), strconv.FormatFloat(c.score, 'f', -1, 64))
		if h := c.relay.health.Load(); h != nil {
			line += "; health: " + *h
		}
		if why := g.noPathCause(c.relay); why != "" {
			line += "; " + g.beacon.describe() + ": " + why
		}
		lines = append(lines, clip(line))
	}
	return append(lines, downLines(g)...)
}

// clip cuts a line to the 255 octets a TXT character-string holds
// (RFC 1035 §3.3).
func clip(s string) string {
	if len(s) <= 255 {
		return s
	}
	return s[:252] + "..."
}

// maxDownLines bounds the relays that are down that explain lists.
const maxDownLines = 8

// downLines says which relays of g are down and what decided it (the
// fleet's view or this instance's own probes), and which are up but
// deliver no data of the source's beacon.
func downLines(g *group) []string {
	var out []string
	for _, r := range g.relays {
		if len(out) == maxDownLines {
			return append(out, "more relays are down or have no path")
		}
		if h := r.health.Load(); h != nil && r.down.Load() {
			out = append(out, clip(fmt.Sprintf("down: relay %s (%s): %s", r.name, r.value(), *h)))
		} else if why := g.noPathCause(r); why != "" {
			out = append(out, clip(fmt.Sprintf("no path: relay %s (%s): up, %s: %s", r.name, r.value(), g.beacon.describe(), why)))
		}
	}
	return out
}

func orUnknown(v float64, format string) string {
	if math.IsNaN(v) {
		return "unknown"
	}
	return fmt.Sprintf(format, v)
}
