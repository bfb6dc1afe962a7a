package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// gatewayReport is what the gateway (amtdiscover -json) says.
type gatewayReport struct {
	Source     string `json:"source"`
	Candidates []struct {
		Address    *string `json:"address"`
		Tier       string  `json:"tier"`
		Precedence *int    `json:"precedence"`
		Usable     bool    `json:"usable"`
		Reason     string  `json:"reason"`
	} `json:"candidates"`
	Rcode      *string `json:"rcode"`
	Error      *string `json:"error"`
	ExitStatus int     `json:"exit_status"`
	Relay      *string `json:"relay"`
	Attempts   []struct {
		Address   string  `json:"address"`
		StartedMS int64   `json:"started_ms"`
		EndedMS   int64   `json:"ended_ms"`
		Outcome   string  `json:"outcome"`
		Error     *string `json:"error"`
	} `json:"attempts"`
	Notes []string `json:"notes"`

	wall   time.Duration
	stderr string
}

// relay is the relay connected, or "".
func (g *gatewayReport) relay() string {
	if g.Relay == nil {
		return ""
	}
	return *g.Relay
}

// addresses lists the candidates' addresses, in the gateway's order.
func (g *gatewayReport) addresses() []string {
	var out []string
	for _, c := range g.Candidates {
		if c.Address != nil {
			out = append(out, *c.Address)
		}
	}
	return out
}

// ranks lists the candidates as "ADDRESS/TIER/PRECEDENCE", in order.
func (g *gatewayReport) ranks() []string {
	var out []string
	for _, c := range g.Candidates {
		p := "-"
		if c.Precedence != nil {
			p = fmt.Sprint(*c.Precedence)
		}
		out = append(out, deref(c.Address)+"/"+c.Tier+"/"+p)
	}
	return out
}

// tried lists the addresses of the attempts, in start order.
func (g *gatewayReport) tried() []string {
	var out []string
	for _, a := range g.Attempts {
		out = append(out, a.Address)
	}
	return out
}

// timings is the scenario's one log line: lookup is when the first
// usable candidate came out of DNS (the race sends its first Relay
// Discovery then), first discovery when the first attempt ended (answered,
// refused or timed out), connect when the relay answered the Request with
// a Membership Query (RFC 8777 §3.2.3). All from the start of the race;
// wall is the whole gateway process.
func (g *gatewayReport) timings() string {
	if len(g.Attempts) == 0 {
		return fmt.Sprintf("no attempt (exit %d), wall %d ms", g.ExitStatus, g.wall.Milliseconds())
	}
	connect := "none"
	for _, a := range g.Attempts {
		if a.Outcome == "connected" || a.Outcome == "advertised" {
			connect = fmt.Sprintf("%d ms", a.EndedMS)
		}
	}
	return fmt.Sprintf("lookup %d ms, first discovery %d ms, connect %s (relay %s, %d attempts: %s), wall %d ms",
		g.Attempts[0].StartedMS, g.Attempts[0].EndedMS, connect, g.relay(), len(g.Attempts), g.outcomes(), g.wall.Milliseconds())
}

func (g *gatewayReport) outcomes() string {
	var s []string
	for _, a := range g.Attempts {
		s = append(s, a.Address+" "+a.Outcome)
	}
	return strings.Join(s, ", ")
}

// gateway runs the gateway, amtdiscover -json with args, as a process in
// ns, using resolver ("host" on port 53). It returns its report whatever
// its exit status (in ExitStatus); it fails t when there is no report.
func (tb *testbed) gateway(t testing.TB, ns netns, resolver string, args ...string) *gatewayReport {
	t.Helper()
	full := append([]string{"@" + resolver, "-json", "-no-anycast", "-timeout", "20s"}, args...)
	cmd := ns.command(tb.bin["amtdiscover"], full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("running amtdiscover in %s: %v", ns, err)
	}
	g := &gatewayReport{wall: wall, stderr: stderr.String()}
	if jerr := json.Unmarshal(stdout.Bytes(), g); jerr != nil {
		t.Fatalf("amtdiscover %s in %s: no JSON report (%v): %v\nstdout: %s\nstderr: %s", strings.Join(full, " "), ns, err, jerr, stdout.String(), stderr.String())
	}
	t.Logf("gateway in %s: amtdiscover %s: exit %d, relay %q, candidates %v, attempts [%s]", ns, strings.Join(full, " "), g.ExitStatus, g.relay(), g.ranks(), g.outcomes())
	return g
}

// connect runs the end user's gateway with -connect for source, and
// fails t unless it connected.
func (tb *testbed) connect(t testing.TB, source string, args ...string) *gatewayReport {
	t.Helper()
	g := tb.gateway(t, nsUser, "127.0.0.1", append([]string{"-connect", "-no-dnssd"}, append(args, source)...)...)
	if g.ExitStatus != 0 || g.relay() == "" {
		t.Fatalf("the gateway did not connect for %s: exit %d, error %v, notes %v\n%s", source, g.ExitStatus, deref(g.Error), g.Notes, g.stderr)
	}
	return g
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// logTimings writes the scenario's timing line.
func logTimings(t testing.TB, g *gatewayReport) {
	t.Helper()
	t.Logf("timings %s: %s", t.Name(), g.timings())
}

// precedenceSlip explains a race whose first attempt went to a DRIAD
// candidate of higher precedence than another of the same answer, which
// RFC 8777 §3.1.2 orders first: a gateway that starts racing on the first
// record of an answer, before it has added the rest, follows the
// records' order, and resolvers rotate it (Unbound's rrset-roundrobin).
func (g *gatewayReport) precedenceSlip() string {
	if len(g.Attempts) == 0 {
		return ""
	}
	best, first := -1, -1
	for _, c := range g.Candidates {
		if c.Tier != "driad" || c.Precedence == nil || !c.Usable {
			continue
		}
		if best < 0 || *c.Precedence < best {
			best = *c.Precedence
		}
		if c.Address != nil && *c.Address == g.Attempts[0].Address {
			first = *c.Precedence
		}
	}
	if first > best {
		return fmt.Sprintf("\n(the race started with a precedence-%d candidate while a precedence-%d one came in the same answer: RFC 8777 §3.1.2 orders by precedence; the gateway raced before adding the whole answer)", first, best)
	}
	return ""
}
