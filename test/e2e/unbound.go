package e2e

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// startUnbound runs the end user's recursive resolver: Unbound on
// 127.0.0.1 and on the end user's address (for AD-2's own gateways in
// scenario h), with the test's root hints and nothing else: every answer
// comes down the delegation chain from the test's root. Its control
// channel lets scenarios flush the cache after a route change.
func (tb *testbed) startUnbound(t *testing.T) {
	t.Helper()
	hints := tb.write(t, "unbound/root.hints", rootHints())
	extra := []string{
		"interface: " + userAddr + "@53",
		"access-control: 10.0.0.0/8 allow",
		"root-hints: \"" + hints + "\"",
		// Forget servers that time out quickly, so a scenario's silent
		// server costs that scenario, not the next.
		"infra-host-ttl: 60",
	}
	extra = append(extra, testenv.UnboundNoDefault(s1Zone4)...)
	extra = append(extra, testenv.UnboundNoDefault(s1Zone6)...)
	conf := testenv.UnboundConfig(tb.path("unbound"), 53, nil, extra...) + `remote-control:
	control-enable: yes
	control-interface: 127.0.0.1
	control-port: 8953
	control-use-cert: no
`
	tb.unboundConf = tb.write(t, "unbound/unbound.conf", conf)
	nsUser.run(t, "unbound-checkconf", tb.unboundConf)
	tb.unbound = tb.start(t, nsUser, "unbound", false, "unbound", "-d", "-c", tb.unboundConf)
	testenv.Eventually(t, "unbound resolves the root server's name", func() bool {
		if tb.unbound.exited() {
			t.Fatalf("unbound exited: %s", tb.unbound.out.String())
		}
		r, err := nsUser.exchange(new(dns.Msg).SetQuestion("rootns.", dns.TypeA), "127.0.0.1:53", time.Second)
		return err == nil && r.Rcode == dns.RcodeSuccess
	})
}

// flush makes Unbound forget what it knows under each zone: answers,
// delegations and negative answers. After a route change the old
// instance's answer would otherwise be served from the cache.
func (tb *testbed) flush(t testing.TB, zones ...string) {
	t.Helper()
	for _, z := range zones {
		nsUser.run(t, "unbound-control", "-c", tb.unboundConf, "flush_zone", z)
	}
	nsUser.run(t, "unbound-control", "-c", tb.unboundConf, "flush_requestlist")
}

// flushS1 flushes the zones of S1 (both families).
func (tb *testbed) flushS1(t testing.TB) { tb.flush(t, s1Zone4, s1Zone6) }

// flushAll makes Unbound start from the root hints again: every cached
// answer and what it learnt of the servers (round-trip times, timeouts).
func (tb *testbed) flushAll(t testing.TB) {
	t.Helper()
	tb.flush(t, ".")
	nsUser.run(t, "unbound-control", "-c", tb.unboundConf, "flush_infra", "all")
}
