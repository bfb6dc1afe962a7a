package amtrelay

import (
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/miekg/dns"
)

func TestExplainTXT(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	r := askName(t, a, "_explain.12.100.51.198.in-addr.arpa.", dns.TypeTXT, "127.0.0.1", "203.0.113.64/26")
	if len(r.Answer) != 1 {
		t.Fatalf("answer %v", r)
	}
	txt := strings.Join(r.Answer[0].(*dns.TXT).Txt, "\n")
	for _, want := range []string{"client 203.0.113.64 (ECS)", "location 40.7128,-74.0060", "GeoIP network 203.0.113.64/26", "policy closest", "ECS scope /26",
		"rank 1 precedence 0 relay chi (192.0.2.2): distance 1144 km", "rank 3 precedence 2 relay syd"} {
		if !strings.Contains(txt, want) {
			t.Errorf("explanation lacks %q:\n%s", want, txt)
		}
	}
}

// TestExplainNoRelaySource: the debug answer for a "none" source says so
// (and does not crash).
func TestExplainNoRelaySource(t *testing.T) {
	a := newTestHandler(t, `amtrelay {
		relay r 192.0.2.1
		source 198.51.100.0/24 r
		source 203.0.113.128/25 none
		explain
	}`)
	resp, rcode, err := serve(t, a, new(dns.Msg).SetQuestion("_explain.130.113.0.203.in-addr.arpa.", dns.TypeTXT))
	if err != nil || rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
		t.Fatalf("rcode %d, err %v, answer %v", rcode, err, resp)
	}
	if txt := strings.Join(resp.Answer[0].(*dns.TXT).Txt, " "); !strings.Contains(txt, "no relay") {
		t.Errorf("explanation %q", txt)
	}
}
