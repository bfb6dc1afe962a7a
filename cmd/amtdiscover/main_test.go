package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/amtrelayrr"
	"github.com/amtrelay/amtrelay/gatewayresolver"
)

// serveRelays answers AMTRELAY queries for 12.100.51.198.in-addr.arpa.
// with relays (presentation form), and everything else with NXDOMAIN, on a
// loopback DNS server it starts. It returns the server's address.
func serveRelays(t *testing.T, relays ...string) string {
	t.Helper()
	const owner = "12.100.51.198.in-addr.arpa."
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		q := req.Question[0]
		if strings.EqualFold(q.Name, owner) && q.Qtype == dns.TypeAMTRELAY {
			for _, s := range relays {
				r, err := amtrelayrr.Parse(s)
				if err != nil {
					panic(err)
				}
				rr, _ := r.RR(dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: 60})
				m.Answer = append(m.Answer, rr)
			}
		} else if !strings.EqualFold(q.Name, owner) {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// testHost makes the CLI's Resolver ignore this host's resolv.conf search
// list and use a fixed dual-stack source-address lookup, so tests never
// connect to documentation addresses and do not depend on the host.
func testHost(t *testing.T, sources func(netip.Addr) (gatewayresolver.Source, error)) {
	configure = func(r *gatewayresolver.Resolver) {
		r.ResolvConf = "/nonexistent/resolv.conf"
		r.SourceFor = sources
		r.ListenPacket = loopbackOnly
	}
	t.Cleanup(func() { configure = nil })
}

// loopbackOnly opens sockets that refuse to send anywhere but loopback.
func loopbackOnly(ctx context.Context, network, _ string) (net.PacketConn, error) {
	pc, err := (&net.ListenConfig{}).ListenPacket(ctx, network, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return guarded{pc}, nil
}

type guarded struct{ net.PacketConn }

func (g guarded) WriteTo(b []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); !ok || !ua.AddrPort().Addr().Unmap().IsLoopback() {
		panic(fmt.Sprintf("test tried to send to %v", addr))
	}
	return g.PacketConn.WriteTo(b, addr)
}

func dualStack(dst netip.Addr) (gatewayresolver.Source, error) {
	switch {
	case dst.IsLoopback():
		return gatewayresolver.Source{Addr: netip.MustParseAddr("127.0.0.1")}, nil
	case dst.Is4():
		return gatewayresolver.Source{Addr: netip.MustParseAddr("10.1.2.3"), PrefixLen: 24}, nil
	}
	return gatewayresolver.Source{Addr: netip.MustParseAddr("2001:db8:ffff::2"), PrefixLen: 64}, nil
}

func v4Only(dst netip.Addr) (gatewayresolver.Source, error) {
	if !dst.Is4() {
		return gatewayresolver.Source{}, &net.AddrError{Err: "network is unreachable", Addr: dst.String()}
	}
	return dualStack(dst)
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// rfc8777Relays are the RFC 8777 §4.3.2 records, as the static example
// serves them: amtrelays.example.com does not resolve there.
var rfc8777Relays = []string{"10 0 1 203.0.113.15", "10 0 2 2001:db8::15", "128 1 3 amtrelays.example.com."}

// TestListRFC8777Example is `amtdiscover -server ... 198.51.100.12` against
// the RFC 8777 example: the relays in order, the unresolvable type-3 name
// listed last without failing the listing.
func TestListRFC8777Example(t *testing.T) {
	server := serveRelays(t, rfc8777Relays...)
	for _, tc := range []struct {
		name    string
		sources func(netip.Addr) (gatewayresolver.Source, error)
		order   []string
	}{
		{"dual stack", dualStack, []string{"2001:db8::15", "203.0.113.15", "amtrelays.example.com. (unresolved)"}},
		{"IPv4 only", v4Only, []string{"203.0.113.15", "2001:db8::15", "amtrelays.example.com. (unresolved)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testHost(t, tc.sources)
			code, out, errOut := runCLI("-server", server, "-no-anycast", "198.51.100.12")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			t.Logf("\n%s", out)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d lines:\n%s", len(lines), out)
			}
			for i, l := range lines {
				f := strings.Fields(l)
				wantPrec := "precedence=10"
				if i == 2 {
					wantPrec = "precedence=128"
				}
				if f[0] != strconv.Itoa(i+1) || !strings.HasPrefix(l[len(f[0]):], "  "+tc.order[i]) || !strings.Contains(l, " driad ") ||
					!strings.Contains(l, wantPrec) || !strings.Contains(l, "reason: ") {
					t.Errorf("line %d = %q, want %s", i+1, l, tc.order[i])
				}
			}
			if !strings.Contains(lines[2], "D=1") || !strings.Contains(lines[0], "D=0") {
				t.Errorf("D-bits wrong:\n%s", out)
			}
		})
	}
}

func TestListJSON(t *testing.T) {
	testHost(t, dualStack)
	server := serveRelays(t, rfc8777Relays...)
	code, out, errOut := runCLI("-json", "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	want := []map[string]any{
		{"address": "2001:db8::15", "tier": "driad", "precedence": 10.0, "discovery_optional": false, "usable": true},
		{"address": "203.0.113.15", "tier": "driad", "precedence": 10.0, "discovery_optional": false, "usable": true},
		{"address": "", "tier": "driad", "precedence": 128.0, "discovery_optional": true, "usable": false, "name": "amtrelays.example.com."},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries:\n%s", len(got), out)
	}
	for i := range want {
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("entry %d: %s = %v, want %v", i, k, got[i][k], v)
			}
		}
		if r, _ := got[i]["reason"].(string); r == "" {
			t.Errorf("entry %d has no reason", i)
		}
	}
}

// TestListAnycastJSON checks tier names in JSON: the anycast
// tier is listed (never contacted: no -connect) and has no precedence.
func TestListAnycastJSON(t *testing.T) {
	testHost(t, dualStack)
	server := serveRelays(t, "10 0 1 203.0.113.15")
	code, out, _ := runCLI("-json", "-server", server, "-no-dnssd", "198.51.100.12")
	var got []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 3 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for i, want := range []string{"2001:3::1", "192.52.193.1", "203.0.113.15"} {
		if got[i]["address"] != want {
			t.Errorf("entry %d = %v", i, got[i])
		}
	}
	if got[0]["tier"] != "anycast" || got[0]["precedence"] != nil || got[2]["tier"] != "driad" {
		t.Errorf("tiers: %v", got)
	}
}

func TestTypeZero(t *testing.T) {
	testHost(t, dualStack)
	server := serveRelays(t, "0 0 0 .")
	code, out, errOut := runCLI("-server", server, "198.51.100.12")
	if code != 1 || out != "" || !strings.Contains(errOut, "the source's operator says: no relay") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestNoRelayFound(t *testing.T) {
	testHost(t, dualStack)
	server := serveRelays(t)
	code, _, errOut := runCLI("-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 1 || !strings.HasPrefix(errOut, "amtdiscover: no usable relay candidates") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"a", "b"}, {"not-an-ip"}, {"-relays", "0", "192.0.2.1"}, {"-bogus"}} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

// TestConnect runs -connect against loopback relays: the first, silent,
// is cancelled (its attempt would time out only after 30 s) once the
// second, started at least one 250 ms attempt delay later, wins.
func TestConnect(t *testing.T) {
	testHost(t, dualStack)
	relays, p, err := amttest.StartSamePort("127.0.0.1", "127.0.0.2")
	if err != nil {
		t.Skipf("no two loopback relays on one port: %v", err)
	}
	live, dead := relays[0], relays[1]
	defer live.Close()
	defer dead.Close()
	port := strconv.Itoa(int(p))
	dead.Set(amttest.Behaviour{Drop: true})
	server := serveRelays(t, "10 0 1 127.0.0.2", "20 0 1 127.0.0.1")
	// afterDelay reports whether a start offset is at least the attempt
	// delay and far below the attempt timeout.
	afterDelay := func(ms int64) bool { return ms >= 250 && ms < 10000 }

	code, out, errOut := runCLI("-connect", "-confirm", "-attempt-timeout", "30s", "-port", port, "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	t.Logf("\n%s", out)
	second := regexp.MustCompile(`(?m)^attempt 2 +127\.0\.0\.1:` + port + ` +started \+(\d+) ms +ended \+\d+ ms +connected`).FindStringSubmatch(out)
	if !regexp.MustCompile(`(?m)^relay 127\.0\.0\.1:`+port+` \(driad, precedence 20\) answered after \d+ ms with a Membership Query`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^attempt 1 +127\.0\.0\.2:`+port+` +started \+\d+ ms +ended \+\d+ ms +cancelled`).MatchString(out) ||
		second == nil {
		t.Errorf("output:\n%s", out)
	} else if ms, _ := strconv.ParseInt(second[1], 10, 64); !afterDelay(ms) {
		t.Errorf("attempt 2 started at +%d ms:\n%s", ms, out)
	}

	code, out, errOut = runCLI("-json", "-connect", "-attempt-timeout", "30s", "-port", port, "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Relay    string `json:"relay"`
		Attempts []struct {
			Address   string `json:"address"`
			StartedMS int64  `json:"started_ms"`
			Outcome   string `json:"outcome"`
		} `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if got.Relay != "127.0.0.1" || len(got.Attempts) != 2 || got.Attempts[0].Address != "127.0.0.2" || got.Attempts[0].Outcome != "cancelled" ||
		got.Attempts[1].Outcome != "advertised" || !afterDelay(got.Attempts[1].StartedMS) {
		t.Errorf("JSON:\n%s", out)
	}
}

// TestConnectFails: every relay silent, so the exit status is 1 with a
// one-line reason, and -json still reports the attempts.
func TestConnectFails(t *testing.T) {
	testHost(t, dualStack)
	dead, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	dead.Set(amttest.Behaviour{Drop: true})
	server := serveRelays(t, "10 0 1 127.0.0.1")
	code, out, errOut := runCLI("-json", "-connect", "-attempt-timeout", "200ms", "-port", strconv.Itoa(int(dead.Addr().Port())), "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 1 || !strings.HasPrefix(errOut, "amtdiscover: no relay answered") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, `"outcome": "timeout"`) || !strings.Contains(out, `"relay": ""`) {
		t.Errorf("JSON:\n%s", out)
	}
}
