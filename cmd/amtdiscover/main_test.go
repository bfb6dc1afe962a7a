package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveRelaysOn(t, pc, relays...)
}

// serveRelaysOn is serveRelays on a socket of the caller's.
func serveRelaysOn(t *testing.T, pc net.PacketConn, relays ...string) string {
	t.Helper()
	const owner = "12.100.51.198.in-addr.arpa."
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

// testHost makes the CLI's Resolver ignore this host's resolv.conf and
// interfaces and use a fixed source-address lookup, so tests never
// connect to documentation addresses and do not depend on the host.
func testHost(t *testing.T, sources func(netip.Addr) (gatewayresolver.Source, error)) {
	configure = func(r *gatewayresolver.Resolver) {
		r.ResolvConf = "/nonexistent/resolv.conf"
		r.InterfaceAddrs = func() ([]netip.Prefix, error) { return nil, nil }
		r.SourceFor = sources
		r.DialUDP = loopbackOnly
	}
	t.Cleanup(func() { configure = nil })
}

// loopbackOnly connects sockets to loopback only: a test that tried
// anything else panics.
func loopbackOnly(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		panic(fmt.Sprintf("test tried to connect to %v", address))
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
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

// decode unmarshals the one JSON object of -json output.
func decode(t *testing.T, out string) map[string]any {
	t.Helper()
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value:\n%s", out)
	}
	return got
}

func TestListJSON(t *testing.T) {
	testHost(t, dualStack)
	server := serveRelays(t, rfc8777Relays...)
	code, out, errOut := runCLI("-json", "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := decode(t, out)
	for k, v := range map[string]any{"source": "198.51.100.12", "reverse_name": "12.100.51.198.in-addr.arpa.", "no_relay": false, "rcode": "NOERROR", "error": nil} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["notes"].([]any); !ok {
		t.Errorf("notes = %v", got["notes"])
	}
	if _, ok := got["relay"]; ok {
		t.Error("relay without -connect")
	}
	cands, _ := got["candidates"].([]any)
	want := []map[string]any{
		{"address": "2001:db8::15", "tier": "driad", "precedence": 10.0, "discovery_optional": false, "usable": true, "name": nil, "ttl": 60.0},
		{"address": "203.0.113.15", "tier": "driad", "precedence": 10.0, "discovery_optional": false, "usable": true, "name": nil, "ttl": 60.0},
		{"address": nil, "tier": "driad", "precedence": 128.0, "discovery_optional": true, "usable": false, "name": "amtrelays.example.com.", "ttl": 60.0},
	}
	if len(cands) != len(want) {
		t.Fatalf("got %d candidates:\n%s", len(cands), out)
	}
	for i := range want {
		c := cands[i].(map[string]any)
		for k, v := range want[i] {
			if c[k] != v {
				t.Errorf("candidate %d: %s = %v, want %v", i, k, c[k], v)
			}
		}
		if r, _ := c["reason"].(string); r == "" {
			t.Errorf("candidate %d has no reason", i)
		}
	}
}

// TestListAnycastJSON checks tier names in JSON: the anycast tier is
// listed (never contacted: no -connect) and has no precedence or TTL.
func TestListAnycastJSON(t *testing.T) {
	testHost(t, dualStack)
	server := serveRelays(t, "10 0 1 203.0.113.15")
	code, out, _ := runCLI("-json", "-server", server, "-no-dnssd", "198.51.100.12")
	got := decode(t, out)
	cands, _ := got["candidates"].([]any)
	if code != 0 || len(cands) != 3 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for i, want := range []string{"2001:3::1", "192.52.193.1", "203.0.113.15"} {
		if c := cands[i].(map[string]any); c["address"] != want {
			t.Errorf("candidate %d = %v", i, c)
		}
	}
	c0, c2 := cands[0].(map[string]any), cands[2].(map[string]any)
	if c0["tier"] != "anycast" || c0["precedence"] != nil || c0["ttl"] != nil || c2["tier"] != "driad" {
		t.Errorf("tiers: %v", cands)
	}
}

// TestExitStatus: the exit status describes the outcome, from the DRIAD
// query when no tier gave a usable candidate.
func TestExitStatus(t *testing.T) {
	testHost(t, v4Only)
	srv := startDNS(t)
	for _, tc := range []struct {
		name    string
		setup   func()
		code    int
		rcode   any
		noRelay bool
	}{
		{"usable", func() { srv.set("10 0 1 203.0.113.15") }, 0, "NOERROR", false},
		{"type 0", func() { srv.set("0 0 0 .") }, 3, "NOERROR", true},
		{"NXDOMAIN", func() { srv.nxdomain() }, 4, "NXDOMAIN", false},
		{"NODATA", func() { srv.set() }, 4, "NOERROR", false},
		{"only IPv6 on an IPv4 host", func() { srv.set("10 0 2 2001:db8::15") }, 4, "NOERROR", false},
		{"SERVFAIL", func() { srv.fail(dns.RcodeServerFailure) }, 5, "SERVFAIL", false},
		{"no answer", func() { srv.drop() }, 5, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			code, out, errOut := runCLI("@127.0.0.1", "-p", srv.port, "-no-anycast", "-no-dnssd", "-timeout", "3s", "-json", "198.51.100.12")
			got := decode(t, out)
			if code != tc.code || got["rcode"] != tc.rcode || got["no_relay"] != tc.noRelay || got["exit_status"] != float64(tc.code) {
				t.Errorf("exit %d, want %d; rcode %v, no_relay %v\n%s%s", code, tc.code, got["rcode"], got["no_relay"], out, errOut)
			}
			if (got["error"] == nil) != (tc.code == 0) {
				t.Errorf("error = %v", got["error"])
			}
			// The text mode has the same status, and one line of reason.
			code, _, errOut = runCLI("@127.0.0.1", "-p", srv.port, "-no-anycast", "-no-dnssd", "-timeout", "3s", "198.51.100.12")
			if code != tc.code || tc.code != 0 && !strings.Contains(errOut, "amtdiscover: ") {
				t.Errorf("text mode: exit %d, stderr %q", code, errOut)
			}
		})
	}
}

func TestTypeZero(t *testing.T) {
	testHost(t, dualStack)
	server := serveRelays(t, "0 0 0 .")
	code, out, errOut := runCLI("-server", server, "198.51.100.12")
	if code != 3 || out != "" || !strings.Contains(errOut, "the source's operator says: no relay") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestNoRelayFound(t *testing.T) {
	testHost(t, dualStack)
	server := serveRelays(t)
	code, _, errOut := runCLI("-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 4 || !strings.HasPrefix(errOut, "amtdiscover: no usable relay candidates") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{}, {"a", "b"}, {"not-an-ip"}, {"232.1.1.1"}, {"-relays", "0", "192.0.2.1"}, {"-bogus"},
		{"-timeout", "0", "192.0.2.1"}, {"-delay", "-1s", "192.0.2.1"}, {"-attempt-timeout", "0s", "192.0.2.1"},
		{"-p", "0", "192.0.2.1"}, {"-relay-port", "70000", "192.0.2.1"}, {"@", "192.0.2.1"}, {"@[::1", "192.0.2.1"},
	} {
		if code, _, errOut := runCLI(args...); code != 2 || errOut == "" {
			t.Errorf("%q: exit %d, want 2; %q", args, code, errOut)
		}
	}
	code, out, _ := runCLI("-h")
	if code != 0 || !strings.Contains(out, "usage: amtdiscover [@server] [-p port] [options] SOURCE") || !strings.Contains(out, "6 with -connect, no relay answered") || !strings.Contains(out, "-relay-port") {
		t.Errorf("-h: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI("-version")
	if code != 0 || !strings.HasPrefix(out, "amtdiscover ") {
		t.Errorf("-version: exit %d, %q", code, out)
	}
}

// TestPortRenamed: -port, which set the relay port, is refused with a
// message that names -relay-port.
func TestPortRenamed(t *testing.T) {
	code, _, errOut := runCLI("-port", "2268", "192.0.2.1")
	if code != 2 || !strings.Contains(errOut, "-relay-port") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestDigSyntax: @server with the port from -p (53 by default, never
// used here), [::1], an explicit port, -server as an alias, and options
// before or after the source.
func TestDigSyntax(t *testing.T) {
	testHost(t, dualStack)
	srv := startDNS(t)
	srv.set("10 0 1 203.0.113.15")
	var got []string
	configure = func(r *gatewayresolver.Resolver) {
		r.ResolvConf = "/nonexistent/resolv.conf"
		r.InterfaceAddrs = func() ([]netip.Prefix, error) { return nil, nil }
		r.SourceFor = dualStack
		got = r.Servers
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"@127.0.0.1", "-p", srv.port, "198.51.100.12", "-no-anycast", "-no-dnssd"}, []string{"127.0.0.1:" + srv.port}},
		{[]string{"198.51.100.12", "@127.0.0.1", "-no-dnssd", "-p=" + srv.port, "-no-anycast"}, []string{"127.0.0.1:" + srv.port}},
		{[]string{"-no-anycast", "-no-dnssd", "@127.0.0.1:" + srv.port, "198.51.100.12"}, []string{"127.0.0.1:" + srv.port}},
		{[]string{"-server", "127.0.0.1:" + srv.port, "-no-anycast", "-no-dnssd", "198.51.100.12"}, []string{"127.0.0.1:" + srv.port}},
		{[]string{"-server", "127.0.0.1", "-p", srv.port, "-no-anycast", "-no-dnssd", "--", "198.51.100.12"}, []string{"127.0.0.1:" + srv.port}},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code != 0 || !slices.Equal(got, tc.want) || !strings.Contains(out, "203.0.113.15") {
			t.Errorf("%q: exit %d, servers %v, want %v\n%s%s", tc.args, code, got, tc.want, out, errOut)
		}
	}
	// Server words alone: the default port and IPv6 brackets.
	for in, want := range map[string]string{
		"127.0.0.1": "127.0.0.1:53", "[::1]": "[::1]:53", "::1": "[::1]:53", "[::1]:5353": "[::1]:5353",
		"ns.example": "ns.example:53", "ns.example:54": "ns.example:54",
	} {
		if got, err := serverAddr(in, 53); err != nil || got != want {
			t.Errorf("serverAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// [::1] against a server on ::1, where this host has it.
	pc, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no ::1: %v", err)
	}
	v6 := serveRelaysOn(t, pc, "10 0 1 203.0.113.15")
	_, port, _ := net.SplitHostPort(v6)
	code, out, errOut := runCLI("@[::1]", "-p", port, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 0 || !slices.Equal(got, []string{"[::1]:" + port}) || !strings.Contains(out, "203.0.113.15") {
		t.Errorf("@[::1]: exit %d, servers %v\n%s%s", code, got, out, errOut)
	}
}

// TestDurationClamped: a -delay outside RFC 8305's bounds runs, clamped,
// and says so.
func TestDurationClamped(t *testing.T) {
	testHost(t, dualStack)
	server := serveRelays(t, "10 0 1 203.0.113.15")
	code, _, errOut := runCLI("-delay", "5ms", "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 0 || !strings.Contains(errOut, "-delay 5ms clamped to 10ms") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestVerbose: -v shows the reverse name, each DNS query with its rcode
// and TTL, the chain followed and each attempt, on standard error; the
// JSON on standard output stays one object.
func TestVerbose(t *testing.T) {
	testHost(t, dualStack)
	relay := startRelay(t)
	srv := startDNS(t)
	srv.with(func() { srv.cname = "12.0-25.100.51.198.in-addr.arpa." })
	srv.set("10 0 1 127.0.0.1")
	code, out, errOut := runCLI("-v", "-json", "-connect", "@127.0.0.1", "-p", srv.port, "-relay-port", itoa(relay.Addr().Port()), "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	decode(t, out)
	for _, want := range []string{
		";; driad: source 198.51.100.12, reverse name 12.100.51.198.in-addr.arpa.",
		";; dns: 12.100.51.198.in-addr.arpa. AMTRELAY @127.0.0.1:" + srv.port + ": NOERROR, ",
		", TTL 60",
		";; dns: followed 12.100.51.198.in-addr.arpa. → 12.0-25.100.51.198.in-addr.arpa.",
		";; attempt 1: 127.0.0.1:" + itoa(relay.Addr().Port()) + " driad started",
		": connected",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestConnect runs -connect against loopback relays: the first, silent,
// is cancelled (its attempt would time out only after 30 s) once the
// second, started at least one 250 ms attempt delay later, connects.
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
	afterDelay := func(ms float64) bool { return ms >= 250 && ms < 10000 }

	code, out, errOut := runCLI("-connect", "-confirm", "-attempt-timeout", "30s", "-relay-port", port, "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	t.Logf("\n%s", out)
	second := regexp.MustCompile(`(?m)^attempt 2 +127\.0\.0\.1:` + port + ` +started \+(\d+) ms +ended \+\d+ ms +connected`).FindStringSubmatch(out)
	if !regexp.MustCompile(`(?m)^relay 127\.0\.0\.1:`+port+` \(driad, precedence 20\) answered after \d+ ms with a Membership Query`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^attempt 1 +127\.0\.0\.2:`+port+` +started \+\d+ ms +ended \+\d+ ms +cancelled`).MatchString(out) ||
		second == nil {
		t.Errorf("output:\n%s", out)
	} else if ms, _ := strconv.ParseFloat(second[1], 64); !afterDelay(ms) {
		t.Errorf("attempt 2 started at +%v ms:\n%s", ms, out)
	}

	code, out, errOut = runCLI("198.51.100.12", "-json", "-connect", "-advert-only", "-attempt-timeout", "30s", "-relay-port", port, "-server", server, "-no-anycast", "-no-dnssd")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := decode(t, out)
	attempts, _ := got["attempts"].([]any)
	if got["relay"] != "127.0.0.1" || got["relay_port"] != float64(p) || len(attempts) != 2 || got["error"] != nil {
		t.Fatalf("JSON:\n%s", out)
	}
	a0, a1 := attempts[0].(map[string]any), attempts[1].(map[string]any)
	if a0["address"] != "127.0.0.2" || a0["outcome"] != "cancelled" || a1["outcome"] != "advertised" || !afterDelay(a1["started_ms"].(float64)) {
		t.Errorf("JSON:\n%s", out)
	}
	if cands, _ := got["candidates"].([]any); len(cands) != 2 {
		t.Errorf("candidates: %v", got["candidates"])
	}
}

// TestConnectFails: every relay silent, so the exit status is 6 with a
// one-line reason, and -json still reports the attempts, with a null
// relay.
func TestConnectFails(t *testing.T) {
	testHost(t, dualStack)
	dead := startRelay(t)
	dead.Set(amttest.Behaviour{Drop: true})
	server := serveRelays(t, "10 0 1 127.0.0.1")
	code, out, errOut := runCLI("-json", "-connect", "-attempt-timeout", "200ms", "-relay-port", itoa(dead.Addr().Port()), "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	got := decode(t, out)
	if code != 6 || got["relay"] != nil || errOut != "" {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	if _, ok := got["relay"]; !ok || !strings.Contains(out, `"outcome": "timeout"`) || got["error"] == nil {
		t.Errorf("JSON:\n%s", out)
	}
	code, _, errOut = runCLI("-connect", "-attempt-timeout", "200ms", "-relay-port", itoa(dead.Addr().Port()), "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 6 || !strings.HasPrefix(errOut, "amtdiscover: no relay answered") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("text: exit %d, stderr %q", code, errOut)
	}
}

// TestConnectExitsEarly: with -connect, amtdiscover exits as soon as a
// relay is connected, although a DNS-SD query is unanswered (it would
// time out after the 20 s -timeout); the pending lookup is named in the
// notes, and the candidates are those known by then.
func TestConnectExitsEarly(t *testing.T) {
	testHost(t, dualStack)
	relay := startRelay(t)
	relay.Set(amttest.Behaviour{Delay: 100 * time.Millisecond}) // time for the PTR query to leave
	srv := startDNS(t)
	srv.set("10 0 1 127.0.0.1")
	srv.with(func() { srv.dropName = "_amt._udp.example.net." })
	start := time.Now()
	code, out, errOut := runCLI("-connect", "-json", "@127.0.0.1", "-p", srv.port, "-relay-port", itoa(relay.Addr().Port()), "-dnssd-domain", "example.net", "-no-anycast", "198.51.100.12")
	took := time.Since(start)
	got := decode(t, out)
	if code != 0 || got["relay"] != "127.0.0.1" || took > 10*time.Second {
		t.Fatalf("exit %d after %v\n%s%s", code, took, out, errOut)
	}
	notes := fmt.Sprint(got["notes"])
	if !strings.Contains(notes, "dns-sd: lookup still pending: _amt._udp.example.net. PTR") {
		t.Errorf("notes %s", notes)
	}
}

// TestStaticExample is the check of corefile-examples/static.corefile:
// `amtdiscover @127.0.0.1 -p 1053 -no-anycast -no-dnssd 198.51.100.12`
// against an in-process server that answers as the example does (the
// RFC 8777 §4.3.2 records; REFUSED for names outside its zones) prints
// the two precedence-10 relays in RFC 6724 order, then
// amtrelays.example.com., unresolved, at precedence 128.
func TestStaticExample(t *testing.T) {
	srv := startDNS(t)
	srv.set(rfc8777Relays...)
	srv.with(func() { srv.outside = dns.RcodeRefused })
	for _, tc := range []struct {
		name    string
		sources func(netip.Addr) (gatewayresolver.Source, error)
		order   []string
	}{
		{"dual stack", dualStack, []string{"2001:db8::15", "203.0.113.15"}},
		{"IPv4 only", v4Only, []string{"203.0.113.15", "2001:db8::15"}},
		{"ULA IPv6", ulaHost, []string{"203.0.113.15", "2001:db8::15"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testHost(t, tc.sources)
			code, out, errOut := runCLI("@127.0.0.1", "-p", srv.port, "-no-anycast", "-no-dnssd", "198.51.100.12")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			t.Logf("\n%s%s", out, errOut)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d lines:\n%s", len(lines), out)
			}
			for i, want := range append(tc.order, "amtrelays.example.com. (unresolved)") {
				if f := strings.Fields(lines[i]); f[0] != strconv.Itoa(i+1) || !strings.HasPrefix(strings.TrimSpace(lines[i][len(f[0]):]), want) {
					t.Errorf("line %d = %q, want %s", i+1, lines[i], want)
				}
			}
			if !strings.Contains(lines[2], "precedence=128") || !strings.Contains(lines[2], "D=1") || !strings.Contains(lines[2], "REFUSED") {
				t.Errorf("line 3 = %q", lines[2])
			}
		})
	}
}

// ulaHost has a ULA IPv6 address (fd00::2/64) and a global IPv4 one, as
// this project's CI machines do: RFC 6724 rule 5 (matching label) puts
// IPv4 first.
func ulaHost(dst netip.Addr) (gatewayresolver.Source, error) {
	if dst.Is4() {
		return gatewayresolver.Source{Addr: netip.MustParseAddr("192.0.2.2"), PrefixLen: 24}, nil
	}
	return gatewayresolver.Source{Addr: netip.MustParseAddr("fd00::2"), PrefixLen: 64}, nil
}

func startRelay(t *testing.T) *amttest.Relay {
	t.Helper()
	r, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func itoa[T ~uint16 | ~int](v T) string { return strconv.Itoa(int(v)) }

// dnsServer answers for 198.51.100.12 as set, on loopback.
type dnsServer struct {
	port     string
	mu       sync.Mutex
	relays   []string
	rcode    int  // for the AMTRELAY query
	dropAll  bool // drop the AMTRELAY query
	cname    string
	dropName string // drop every query for this name
	outside  int    // rcode for names other than the source's
}

func (s *dnsServer) set(relays ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.relays, s.rcode, s.dropAll = relays, dns.RcodeSuccess, false
}

// with runs f under the server's lock, to change its fields.
func (s *dnsServer) with(f func()) { s.mu.Lock(); defer s.mu.Unlock(); f() }

func (s *dnsServer) nxdomain() { s.fail(dns.RcodeNameError) }
func (s *dnsServer) fail(rc int) {
	s.mu.Lock()
	s.relays, s.rcode, s.dropAll = nil, rc, false
	s.mu.Unlock()
}
func (s *dnsServer) drop() { s.mu.Lock(); s.dropAll = true; s.mu.Unlock() }

func startDNS(t *testing.T) *dnsServer {
	t.Helper()
	s := &dnsServer{outside: dns.RcodeNameError}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, s.port, _ = net.SplitHostPort(pc.LocalAddr().String())
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve)}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return s
}

func (s *dnsServer) serve(w dns.ResponseWriter, req *dns.Msg) {
	const owner = "12.100.51.198.in-addr.arpa."
	s.mu.Lock()
	defer s.mu.Unlock()
	q := req.Question[0]
	m := new(dns.Msg).SetReply(req)
	name := strings.ToLower(q.Name)
	switch {
	case name == s.dropName:
		return
	case name == owner && q.Qtype == dns.TypeAMTRELAY && s.dropAll:
		return
	case name == owner && s.cname != "":
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: s.cname})
	case name == owner || name == s.cname && s.cname != "":
		if q.Qtype == dns.TypeAMTRELAY {
			m.Rcode = s.rcode
			for _, r := range s.relays {
				relay, err := amtrelayrr.Parse(r)
				if err != nil {
					panic(err)
				}
				rr, _ := relay.RR(dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 60})
				m.Answer = append(m.Answer, rr)
			}
		}
	default:
		m.Rcode = s.outside
	}
	w.WriteMsg(m)
}
