package e2e

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// reverse4 and reverse6 are S1's reverse names, the DRIAD query names.
var (
	reverse4 = mustReverse(source1)
	reverse6 = mustReverse(source1v6)
)

func mustReverse(a string) string {
	r, err := dns.ReverseAddr(a)
	if err != nil {
		panic(err)
	}
	return r
}

// query asks server (port 53) from inside ns, and fails t on no answer.
func query(t testing.TB, ns netns, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	m.SetEdns0(dns.DefaultMsgSize, false)
	r, err := ns.exchange(m, net.JoinHostPort(server, "53"), 3*time.Second)
	if err != nil {
		t.Fatalf("%s %s at %s from %s: %v", name, dns.TypeToString[qtype], server, ns, err)
	}
	return r
}

// ranked asks server, from the end user's namespace, for S1's AMTRELAY
// records (IPv4 S1) and returns them as "PRECEDENCE RELAY", in order.
func ranked(t testing.TB, server string) []string {
	t.Helper()
	r := query(t, nsUser, server, reverse4, dns.TypeAMTRELAY)
	if r.Rcode != dns.RcodeSuccess {
		t.Fatalf("AMTRELAY %s at %s: %s", reverse4, server, dns.RcodeToString[r.Rcode])
	}
	return testenv.Ranked(t, r.Answer)
}

// rankedNow is ranked for a condition polled until it holds: a lost or
// failed query gives nil rather than failing the test.
func rankedNow(t testing.TB, server string) []string {
	t.Helper()
	m := new(dns.Msg).SetQuestion(reverse4, dns.TypeAMTRELAY)
	m.SetEdns0(dns.DefaultMsgSize, false)
	r, err := nsUser.exchange(m, net.JoinHostPort(server, "53"), time.Second)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		return nil
	}
	return testenv.Ranked(t, r.Answer)
}

// addresses returns the A and AAAA addresses of an answer, in order.
func addresses(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		switch v := rr.(type) {
		case *dns.A:
			out = append(out, v.A.String())
		case *dns.AAAA:
			out = append(out, v.AAAA.String())
		}
	}
	return out
}

// relayNames maps each relay address to its name, for messages.
var relayNames = map[string]string{
	relay1a: "1a", relay1b: "1b", relay2a: "2a",
	relay1a6: "1a6", relay1b6: "1b6", relay2a6: "2a6",
	agar1: "AGAR1", agar2: "AGAR2",
}

// named is "1a (203.0.113.11)".
func named(addr string) string {
	if n, ok := relayNames[addr]; ok {
		return n + " (" + addr + ")"
	}
	return addr
}

// metricSum sums the samples of metric whose labels include every
// label="value" given, in a Prometheus text page.
func metricSum(page, metric string, labels ...string) float64 {
	sum := 0.0
	for _, line := range strings.Split(page, "\n") {
		if !strings.HasPrefix(line, metric+"{") && !strings.HasPrefix(line, metric+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// metricsPage is the Prometheus page of the AMT DNS instance at addr,
// read from the end user's namespace, or "" when it cannot be read.
func metricsPage(addr string) string {
	resp, err := nsUser.httpClient().Get("http://" + addr + ":9153/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
