package amtrelay

import (
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/miekg/dns"
)

// TestSeedFollowsFirstRank: amt.<reverse> A follows the policy's first
// rank.
func TestSeedFollowsFirstRank(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	r := askName(t, a, "amt.12.100.51.198.in-addr.arpa.", dns.TypeA, "127.0.0.1", "203.0.113.128/26")
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.3" {
		t.Errorf("seed A from Melbourne: %v", r.Answer)
	}
	if e := replyECS(r); e == nil || e.SourceScope != 26 {
		t.Errorf("ECS %v", e)
	}
}

// TestTypeANY: ANY is answered with one RRset (RFC 8482 §4.1): the
// AMTRELAY records at a source name, A (else AAAA) at its amt. name, SOA
// at the apex; any-limit caps the records.
func TestTypeANY(t *testing.T) {
	a := newTestHandler(t, staticCorefile)
	resp, _, _ := serve(t, a, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeANY))
	if len(relays(t, resp.Answer)) != 3 || len(resp.Answer) != 3 {
		t.Errorf("ANY at source: %v", resp.Answer)
	}
	resp, _, _ = serve(t, a, new(dns.Msg).SetQuestion("100.51.198.in-addr.arpa.", dns.TypeANY))
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("ANY at apex: %v", resp.Answer)
	}
	resp, _, _ = serve(t, a, new(dns.Msg).SetQuestion("amt.12.100.51.198.in-addr.arpa.", dns.TypeANY))
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Rrtype != dns.TypeA {
		t.Errorf("ANY at the amt. name: %v", resp.Answer)
	}
	limited := newTestHandler(t, strings.Replace(staticCorefile, "ttl 60", "ttl 60\n\tany-limit 1", 1))
	resp, _, _ = serve(t, limited, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeANY))
	if len(resp.Answer) != 1 {
		t.Errorf("ANY with any-limit 1: %v", resp.Answer)
	}
}

func TestSeedCNAME(t *testing.T) {
	a := newTestHandler(t, `amtrelay {
		relay n 5 0 3 relays.example.net.
		relay v4 10 0 1 192.0.2.1
		source 198.51.100.0/24
	}`)
	resp, _, _ := serve(t, a, new(dns.Msg).SetQuestion("amt.1.100.51.198.in-addr.arpa.", dns.TypeA))
	if len(resp.Answer) != 1 {
		t.Fatalf("answer %v", resp.Answer)
	}
	if c, ok := resp.Answer[0].(*dns.CNAME); !ok || c.Target != "relays.example.net." {
		t.Errorf("answer %v, want a CNAME to relays.example.net.", resp.Answer[0])
	}
}

// TestD1Wire checks the exact RDATA bytes of a D=1 answer (the miekg/dns
// bug this project works around).
func TestD1Wire(t *testing.T) {
	a := newTestHandler(t, staticCorefile)
	resp, _, _ := serve(t, a, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY))
	raw, err := resp.Pack()
	if err != nil {
		t.Fatal(err)
	}
	want := "0019808309616d7472656c617973076578616d706c6503636f6d00" // RDLENGTH 25, then RDATA
	if !containsHex(raw, want) {
		t.Errorf("packed reply %x lacks %s", raw, want)
	}
}
