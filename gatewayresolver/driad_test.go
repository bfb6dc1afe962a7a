package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amtrelayrr"
)

var rfcSource = netip.MustParseAddr("198.51.100.12")

func lookup(t *testing.T, r *Resolver, source netip.Addr) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.Lookup(ctx, source)
}

// TestLookupRFC8777Example orders the RFC 8777 §4.3.2 records: precedence 10
// before 128 (§4.2.1); inside precedence 10, RFC 6724 Rule 6 puts IPv6
// (precedence 40) before IPv4 (35) on a dual-stack host; the type-3 name's
// addresses inherit precedence 128 and D=1 (§4.2.4).
func TestLookupRFC8777Example(t *testing.T) {
	srv := startServer(t, rfc8777Zone...)
	res, err := lookup(t, testResolver(srv.Addr), rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	if res.ReverseName != "12.100.51.198.in-addr.arpa." {
		t.Errorf("ReverseName = %q", res.ReverseName)
	}
	want := []string{"2001:db8::15", "203.0.113.15", "2001:db8::16", "203.0.113.16"}
	if got := addrsOfCands(res.Candidates); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	for i, c := range res.Candidates {
		wantPrec, wantD := uint8(10), false
		if i >= 2 {
			wantPrec, wantD = 128, true
		}
		if c.Tier != TierDRIAD || c.Precedence != wantPrec || c.DiscoveryOptional != wantD || !c.Usable || c.Addr.Port() != 2268 {
			t.Errorf("candidate %d = %+v", i, c)
		}
	}
	if n := res.Candidates[2].Name; n != "amtrelays.example.com." {
		t.Errorf("type-3 candidate Name = %q", n)
	}
	for i, sub := range []string{
		"driad is the first tier with candidates (RFC 8777 §3.1.2), precedence 10",
		"after 2001:db8::15 by RFC 6724 rule 6 (prefer higher precedence, 40 vs 35)",
		"precedence 128 after precedence 10",
		"after 2001:db8::16 by RFC 6724 rule 6",
	} {
		if !strings.Contains(res.Candidates[i].Reason, sub) {
			t.Errorf("candidate %d reason %q lacks %q", i, res.Candidates[i].Reason, sub)
		}
	}
}

// TestLookupRFC8777ExampleV4Only: on a host without IPv6, Rule 1 makes the
// IPv6 relays unusable; they stay listed, after the IPv4 ones of their
// precedence.
func TestLookupRFC8777ExampleV4Only(t *testing.T) {
	srv := startServer(t, rfc8777Zone...)
	r := testResolver(srv.Addr)
	r.SourceFor = v4OnlySources
	res, err := lookup(t, r, rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"203.0.113.15", "2001:db8::15", "203.0.113.16", "2001:db8::16"}
	if got := addrsOfCands(res.Candidates); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	if res.Candidates[1].Usable || !strings.Contains(res.Candidates[1].Reason, "unusable (RFC 6724 rule 1): no source address") {
		t.Errorf("IPv6 candidate: %+v", res.Candidates[1])
	}
	if got := addrsOfCands(res.Usable()); !slices.Equal(got, []string{"203.0.113.15", "203.0.113.16"}) {
		t.Errorf("usable = %v", got)
	}
}

// TestLookupUnresolvedName: a type-3 name that does not resolve is listed
// without an address, unusable, and does not fail the lookup.
func TestLookupUnresolvedName(t *testing.T) {
	srv := startServer(t, rfc8777Zone[:3]...)
	res, err := lookup(t, testResolver(srv.Addr), rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2001:db8::15", "203.0.113.15", "amtrelays.example.com?"}
	if got := addrsOfCands(res.Candidates); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	c := res.Candidates[2]
	if c.Usable || c.Precedence != 128 || !c.DiscoveryOptional || !strings.Contains(c.Reason, "relay name did not resolve") {
		t.Errorf("unresolved candidate = %+v", c)
	}
}

func TestLookupTypeZero(t *testing.T) {
	srv := startServer(t,
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 0 0 0 .",
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 1 203.0.113.15",
	)
	r := testResolver(srv.Addr)
	r.Tiers = []Tier{TierAnycast, TierDRIAD} // even with other tiers, type 0 means no relay
	res, err := lookup(t, r, rfcSource)
	if !errors.Is(err, ErrNoRelay) {
		t.Fatalf("err = %v, want ErrNoRelay", err)
	}
	if !strings.Contains(err.Error(), "the source's operator says: no relay") {
		t.Errorf("err = %q", err)
	}
	if !res.NoRelay || len(res.Candidates) != 0 {
		t.Errorf("result = %+v", res)
	}
}

// TestLookupBadRecords: records of unknown type, wrong RDATA length,
// compressed type-3 names and impossible addresses are skipped with a
// note; the good record survives.
func TestLookupBadRecords(t *testing.T) {
	owner := "12.100.51.198.in-addr.arpa."
	srv := startServer(t, owner+" 60 IN AMTRELAY 20 1 1 203.0.113.20")
	for _, hexRdata := range []string{
		"0a04deadbeef",                   // type 4: unknown (§4.2.3)
		"0a7f",                           // type 127
		"0a01cb0071",                     // type 1, 3 octets
		"0a01cb00710f00",                 // type 1, 5 octets
		"0a0220010db8",                   // type 2, 4 octets
		"0a03c00c",                       // type 3, compressed pointer
		"0a0303636f6dc000",               // type 3, compressed after a label
		"0a03",                           // type 3, empty
		"0a",                             // one octet
		"000001",                         // type 0 with a relay field
		"0a01e0000001",                   // type 1, multicast 224.0.0.1
		"0a0100000000",                   // type 1, 0.0.0.0
		"0a02ff020000000000000000000001", // type 2, 15 octets
	} {
		srv.with(func() {
			srv.rrs = append(srv.rrs, &dns.RFC3597{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeAMTRELAY, Class: dns.ClassINET, Ttl: 60}, Rdata: hexRdata})
		})
	}
	res, err := lookup(t, testResolver(srv.Addr), rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	if got := addrsOfCands(res.Candidates); !slices.Equal(got, []string{"203.0.113.20"}) {
		t.Fatalf("candidates = %v", got)
	}
	if c := res.Candidates[0]; c.Precedence != 20 || !c.DiscoveryOptional {
		t.Errorf("candidate = %+v", c)
	}
	if len(res.Notes) != 13 {
		t.Errorf("%d notes, want 13:", len(res.Notes))
		for _, n := range res.Notes {
			t.Log(n)
		}
	}
	var unknown, compressed int
	for _, n := range res.Notes {
		if strings.Contains(n.Err.Error(), "unknown relay type") {
			unknown++
		}
		if errors.Is(n.Err, amtrelayrr.ErrCompressed) {
			compressed++
		}
	}
	if unknown != 2 || compressed != 2 {
		t.Errorf("unknown = %d, compressed = %d", unknown, compressed)
	}
}

// TestLookupDBitEveryType checks that D=1 records of every type decode,
// which miekg/dns's own unpacking cannot do.
func TestLookupDBitEveryType(t *testing.T) {
	owner := "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY "
	srv := startServer(t,
		owner+"5 1 1 203.0.113.5",
		owner+"5 1 2 2001:db8::5",
		owner+"6 1 3 relay.example.",
		"relay.example. 60 IN A 203.0.113.6",
	)
	res, err := lookup(t, testResolver(srv.Addr), rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 3 {
		t.Fatalf("candidates = %v", addrsOfCands(res.Candidates))
	}
	for _, c := range res.Candidates {
		if !c.DiscoveryOptional {
			t.Errorf("%v: D-bit lost", c.Addr)
		}
	}
}

func TestLookupIPv6Source(t *testing.T) {
	name := "a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
	srv := startServer(t, name+" 60 IN AMTRELAY 0 0 2 2001:db8::c:f")
	res, err := lookup(t, testResolver(srv.Addr), netip.MustParseAddr("2001:db8::a"))
	if err != nil {
		t.Fatal(err)
	}
	if res.ReverseName != name || len(res.Candidates) != 1 || res.Candidates[0].Addr.Addr().String() != "2001:db8::c:f" {
		t.Errorf("result = %+v", res)
	}
}

// TestLookupTCPFallback: a truncated UDP reply is retried over TCP.
func TestLookupTCPFallback(t *testing.T) {
	srv := startServer(t, rfc8777Zone...)
	srv.with(func() { srv.truncateUDP = true })
	res, err := lookup(t, testResolver(srv.Addr), rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 4 {
		t.Errorf("candidates = %v", addrsOfCands(res.Candidates))
	}
	if !slices.Contains(srv.queries(), "tcp 12.100.51.198.in-addr.arpa. AMTRELAY") {
		t.Errorf("no TCP query: %v", srv.queries())
	}
}

// TestLookupCNAMEChain follows an RFC 2317-style CNAME, both when the
// server includes the target's records and when the resolver must ask.
func TestLookupCNAMEChain(t *testing.T) {
	for _, chase := range []bool{false, true} {
		srv := startServer(t,
			"12.100.51.198.in-addr.arpa. 60 IN CNAME 12.0-25.100.51.198.in-addr.arpa.",
			"12.0-25.100.51.198.in-addr.arpa. 60 IN CNAME relays.sender.example.",
			"relays.sender.example. 60 IN AMTRELAY 10 0 1 203.0.113.15",
		)
		srv.with(func() { srv.chase = chase })
		res, err := lookup(t, testResolver(srv.Addr), rfcSource)
		if err != nil {
			t.Fatalf("chase=%v: %v", chase, err)
		}
		if got := addrsOfCands(res.Candidates); !slices.Equal(got, []string{"203.0.113.15"}) {
			t.Errorf("chase=%v: candidates = %v", chase, got)
		}
		n := 0
		for _, q := range srv.queries() {
			if strings.HasSuffix(q, "AMTRELAY") {
				n++
			}
		}
		if want := map[bool]int{false: 3, true: 1}[chase]; n != want {
			t.Errorf("chase=%v: %d AMTRELAY queries, want %d: %v", chase, n, want, srv.queries())
		}
	}
}

func TestLookupDNAME(t *testing.T) {
	srv := startServer(t,
		"100.51.198.in-addr.arpa. 60 IN DNAME sources.sender.example.",
		"12.sources.sender.example. 60 IN AMTRELAY 10 0 1 203.0.113.15",
	)
	res, err := lookup(t, testResolver(srv.Addr), rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	if got := addrsOfCands(res.Candidates); !slices.Equal(got, []string{"203.0.113.15"}) {
		t.Errorf("candidates = %v; notes %v", got, res.Notes)
	}
}

func TestLookupCNAMELoop(t *testing.T) {
	for _, chase := range []bool{false, true} {
		srv := startServer(t,
			"12.100.51.198.in-addr.arpa. 60 IN CNAME a.example.",
			"a.example. 60 IN CNAME b.example.",
			"b.example. 60 IN CNAME 12.100.51.198.in-addr.arpa.",
		)
		srv.with(func() { srv.chase = chase })
		res, err := lookup(t, testResolver(srv.Addr), rfcSource)
		if !errors.Is(err, ErrNoCandidates) {
			t.Fatalf("err = %v", err)
		}
		if len(res.Notes) != 1 || !errors.Is(res.Notes[0].Err, ErrCNAMELoop) {
			t.Errorf("chase=%v: notes = %v", chase, res.Notes)
		}
	}
}

func TestLookupChainTooLong(t *testing.T) {
	lines := []string{"12.100.51.198.in-addr.arpa. 60 IN CNAME c1.example."}
	for i := 1; i < 12; i++ {
		lines = append(lines, "c"+strconv.Itoa(i)+".example. 60 IN CNAME c"+strconv.Itoa(i+1)+".example.")
	}
	lines = append(lines, "c12.example. 60 IN AMTRELAY 10 0 1 203.0.113.15")
	for _, chase := range []bool{false, true} {
		srv := startServer(t, lines...)
		srv.with(func() { srv.chase = chase })
		r := testResolver(srv.Addr)
		_, err := lookup(t, r, rfcSource)
		if !errors.Is(err, ErrNoCandidates) || !strings.Contains(err.Error(), ErrChainTooLong.Error()) {
			t.Errorf("chase=%v: err = %v", chase, err)
		}
		if n := len(srv.queries()); n > defaultMaxChain+1 {
			t.Errorf("chase=%v: %d queries for one chain", chase, n)
		}
		r = testResolver(srv.Addr)
		r.maxChain = 12
		if res, err := lookup(t, r, rfcSource); err != nil || len(res.Candidates) != 1 {
			t.Errorf("chase=%v, maxChain 12: %v, %v", chase, err, res.Notes)
		}
	}
}

// TestLookupIgnoresOffChainRecords: records the reply carries for other
// names are not believed.
func TestLookupIgnoresOffChainRecords(t *testing.T) {
	srv := startServer(t, "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 1 203.0.113.15")
	forged := mustRR(t, "13.100.51.198.in-addr.arpa. 60 IN AMTRELAY 0 0 1 192.0.2.66")
	srv.with(func() {
		srv.raw = func(req *dns.Msg) []byte {
			m := srv.reply(req, "udp")
			m.Answer = append([]dns.RR{forged}, m.Answer...)
			b, _ := m.Pack()
			return b
		}
	})
	res, err := lookup(t, testResolver(srv.Addr), rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	if got := addrsOfCands(res.Candidates); !slices.Equal(got, []string{"203.0.113.15"}) {
		t.Errorf("candidates = %v", got)
	}
}

// TestLookupMalformedReplies: garbage, truncated messages, replies to
// another question, and replies without QR are errors, never panics or
// candidates.
func TestLookupMalformedReplies(t *testing.T) {
	for name, mangle := range map[string]func(req *dns.Msg, good []byte) []byte{
		"garbage":       func(req *dns.Msg, good []byte) []byte { return append(good[:2:2], 0xff, 0xff, 0xff) },
		"cut in record": func(req *dns.Msg, good []byte) []byte { return good[:len(good)-3] },
		"rdlength past": func(req *dns.Msg, good []byte) []byte {
			g := append([]byte(nil), good...)
			g[len(g)-7] = 0xff
			return g
		},
		"other question": func(req *dns.Msg, good []byte) []byte { return packReply(req, "13.100.51.198.in-addr.arpa.", true) },
		"no QR bit":      func(req *dns.Msg, good []byte) []byte { return packReply(req, req.Question[0].Name, false) },
	} {
		t.Run(name, func(t *testing.T) {
			srv := startServer(t, "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 1 203.0.113.15")
			srv.with(func() {
				srv.raw = func(req *dns.Msg) []byte {
					good, _ := srv.reply(req, "udp").Pack()
					return mangle(req, good)
				}
			})
			r := testResolver(srv.Addr)
			r.RetryInitial = 50 * time.Millisecond
			res, err := lookup(t, r, rfcSource)
			if !errors.Is(err, ErrNoCandidates) || len(res.Candidates) != 0 {
				t.Errorf("err = %v, candidates %v", err, addrsOfCands(res.Candidates))
			}
		})
	}
}

func packReply(req *dns.Msg, qname string, qr bool) []byte {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Question[0].Name = qname
	m.Response = qr
	rr, _ := amtrelayrr.ForAddr(0, false, netip.MustParseAddr("192.0.2.66")).RR(dns.RR_Header{Name: qname, Class: dns.ClassINET})
	m.Answer = []dns.RR{rr}
	b, _ := m.Pack()
	return b
}

// TestLookupRetriesTimeouts: a dropped query is retried after the §3.5
// back-off, and a second server is asked when the first fails.
func TestLookupRetriesTimeouts(t *testing.T) {
	srv := startServer(t, rfc8777Zone[0])
	srv.with(func() { srv.drop[qkey("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)] = 1 })
	r := testResolver(srv.Addr)
	// The first timeout is short; later rounds wait up to 100 ms·2^n, and
	// there are enough of them that a slow reply to the retry still
	// counts.
	r.RetryInitial, r.queryAttempts = 100*time.Millisecond, 6
	start := time.Now()
	res, err := lookup(t, r, rfcSource)
	if err != nil || len(res.Candidates) != 1 {
		t.Fatalf("%v %v", err, res.Notes)
	}
	// At least the 100 ms timeout, and far from the 30 s lookup limit.
	if d := time.Since(start); d < 100*time.Millisecond || d > 10*time.Second {
		t.Errorf("took %v, want one 100 ms timeout", d)
	}
	asked := 0
	for _, q := range srv.queries() {
		if q == "udp 12.100.51.198.in-addr.arpa. AMTRELAY" {
			asked++
		}
	}
	if asked < 2 {
		t.Errorf("asked %d times: %v", asked, srv.queries())
	}

	refusing := startServer(t)
	refusing.with(func() { refusing.rcode[qkey("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)] = dns.RcodeRefused })
	good := startServer(t, rfc8777Zone[0])
	res, err = lookup(t, testResolver(refusing.Addr, good.Addr), rfcSource)
	if err != nil || len(res.Candidates) != 1 {
		t.Fatalf("%v %v", err, res.Notes)
	}

	dead := startServer(t)
	dead.with(func() { dead.drop[qkey("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)] = 100 })
	r = testResolver(dead.Addr)
	r.RetryInitial, r.RetryMax, r.queryAttempts = 40*time.Millisecond, 80*time.Millisecond, 3
	_, err = lookup(t, r, rfcSource)
	if !errors.Is(err, ErrNoCandidates) {
		t.Errorf("err = %v", err)
	}
	if n := len(dead.queries()); n != 3 {
		t.Errorf("%d queries to a dead server, want 3 attempts", n)
	}
}

func TestLookupNXDOMAIN(t *testing.T) {
	srv := startServer(t)
	res, err := lookup(t, testResolver(srv.Addr), rfcSource)
	if !errors.Is(err, ErrNoCandidates) || len(res.Notes) != 0 {
		t.Errorf("err = %v, notes = %v", err, res.Notes)
	}
}

func TestLookupBadSource(t *testing.T) {
	for _, s := range []string{"232.1.1.1", "0.0.0.0", "::", "ff3e::1234"} {
		if _, err := testResolver("127.0.0.1:1").Lookup(context.Background(), netip.MustParseAddr(s)); !errors.Is(err, ErrBadSource) {
			t.Errorf("%s: err = %v", s, err)
		}
	}
}

// TestLookupSeed checks the seed-style lookup of amt.<reverse name>.
func TestLookupSeed(t *testing.T) {
	srv := startServer(t,
		"amt.12.100.51.198.in-addr.arpa. 60 IN A 203.0.113.77",
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 1 203.0.113.15",
	)
	r := testResolver(srv.Addr)
	r.Tiers = []Tier{TierDRIAD, TierSeed}
	res, err := lookup(t, r, rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	if got := addrsOfCands(res.Candidates); !slices.Equal(got, []string{"203.0.113.15", "203.0.113.77"}) {
		t.Fatalf("candidates = %v", got)
	}
	if res.Candidates[1].Tier != TierSeed || res.Candidates[1].Name != "amt.12.100.51.198.in-addr.arpa." {
		t.Errorf("seed candidate = %+v", res.Candidates[1])
	}
}

// TestRelayNameCapAfterSort (issue #10): of more than 8 type-3 names, the
// 8 of lowest precedence are resolved, whatever their place in the answer.
// The old cap kept the first 8 in answer order and dropped the
// precedence-0 name here.
func TestRelayNameCapAfterSort(t *testing.T) {
	owner := "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY "
	var lines []string
	for i := range 9 {
		lines = append(lines, fmt.Sprintf("%s%d 0 3 r%d.example.", owner, 20+i, i))
	}
	lines = append(lines, owner+"0 0 3 first.example.", "first.example. 60 IN A 203.0.113.1")
	srv := startServer(t, lines...)
	res, _ := lookup(t, testResolver(srv.Addr), rfcSource)
	got := addrsOfCands(res.Candidates)
	if len(got) != 8 || got[0] != "203.0.113.1" || slices.Contains(got, "r7.example?") || slices.Contains(got, "r8.example?") {
		t.Errorf("candidates %v: want the precedence-0 name first and r7, r8 (precedence 27, 28) dropped; notes %v", got, res.Notes)
	}
}

// TestRootRelayNameSkipped (issue #10): a type-3 relay name of "." names
// no relay: skipped with a note, never queried.
func TestRootRelayNameSkipped(t *testing.T) {
	srv := startServer(t, "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 3 .", "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 20 0 1 203.0.113.1")
	res, err := lookup(t, testResolver(srv.Addr), rfcSource)
	if err != nil || len(res.Candidates) != 1 {
		t.Fatalf("%v, %v", err, addrsOfCands(res.Candidates))
	}
	for _, q := range srv.queries() {
		if strings.HasPrefix(q, "udp . ") {
			t.Errorf("queried %q", q)
		}
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0].Err.Error(), "the root is not a relay name") {
		t.Errorf("notes %v", res.Notes)
	}
}

// TestLookupRcode: Result.Rcode is the AMTRELAY reply's rcode, after the
// chain, or -1 without a reply.
func TestLookupRcode(t *testing.T) {
	srv := startServer(t, "12.100.51.198.in-addr.arpa. 60 IN CNAME gone.example.")
	res, _ := lookup(t, testResolver(srv.Addr), rfcSource)
	if res.Rcode != dns.RcodeNameError {
		t.Errorf("NXDOMAIN at the end of a CNAME: Rcode %d", res.Rcode)
	}
	srv.with(func() { srv.rcode[qkey("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)] = dns.RcodeServerFailure })
	if res, _ = lookup(t, testResolver(srv.Addr), rfcSource); res.Rcode != dns.RcodeServerFailure {
		t.Errorf("SERVFAIL: Rcode %d", res.Rcode)
	}
	srv.with(func() { srv.drop[qkey("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)] = 100 })
	r := testResolver(srv.Addr)
	r.RetryInitial, r.RetryMax, r.queryAttempts = 50*time.Millisecond, 50*time.Millisecond, 1
	if res, _ = lookup(t, r, rfcSource); res.Rcode != -1 {
		t.Errorf("no reply: Rcode %d", res.Rcode)
	}
}

// TestDialTypeZero: a type-0 record ends a Dial with ErrNoRelay, and no
// relay is tried.
func TestDialTypeZero(t *testing.T) {
	srv := startServer(t, "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 1 127.0.0.1", "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 0 0 0 .")
	r := testResolver(srv.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	race, err := r.Dial(ctx, rfcSource)
	if !errors.Is(err, ErrNoRelay) || len(race.Attempts) != 0 || !race.Lookup.NoRelay || len(race.Candidates) != 0 {
		t.Errorf("%v, %+v", err, race)
	}
}
