// Command amtdiscover finds the AMT relays a gateway should use for
// multicast traffic from a source, the way RFC 8777 §3 lays out, and can
// connect to the best one that answers.
//
// Usage:
//
//	amtdiscover [flags] source
//
// It prints the candidates in the order a gateway tries them (DNS-SD, then
// the AMT anycast addresses, then DRIAD by precedence, each sorted by
// RFC 6724 with ties broken pseudorandomly), one per line, with tier,
// precedence (DRIAD) or SRV priority and weight (DNS-SD), D-bit and the
// reason for the position:
//
//	1  2001:db8::15                           driad  precedence=10   D=0  reason: ...
//	2  203.0.113.15                           driad  precedence=10   D=0  reason: ...
//	3  amtrelays.example.com. (unresolved)    driad  precedence=128  D=1  reason: ...
//
// A type-3 relay name that does not resolve is listed as "(unresolved)",
// unusable, rather than failing the listing. Candidates a gateway cannot
// use (in hold-down, without a source address on this host, unresolved)
// say so in their reason. Notes about records skipped or lookups that
// failed go to standard error.
//
// Flags:
//
//	-server host:port   DNS server to ask (repeatable); default the nameservers of /etc/resolv.conf
//	-no-anycast         leave out the anycast addresses 192.52.193.1 and 2001:3::1
//	-no-dnssd           leave out DNS-SD
//	-dnssd-domain d     browse _amt._udp.d (repeatable); default the resolv.conf search list
//	                    and its b._dns-sd._udp browsing domains
//	-seed               also look up A/AAAA at amt.<reverse name>
//	-port n             relay UDP port for DRIAD and anycast candidates (default 2268)
//	-connect            run Happy Eyeballs and print the winner and each attempt's timing
//	-relays n           with -connect, hold n relays at once (RFC 8777 §3.1.3)
//	-confirm            with -connect, require a Membership Query without the L flag
//	-direct             with -connect, send a Request without discovery to D=1 relays
//	-delay d            time between connection attempts (default 250ms, within 10ms-2s)
//	-attempt-timeout d  time before a silent relay counts as failed (default 3s)
//	-timeout d          time limit for everything (default 20s)
//	-json               write JSON instead of text
//
// With -json and without -connect the output is an array, in order, of
// objects with address (IP string; "" for an unresolved name), port, tier
// ("dns-sd", "anycast", "driad" or "seed"), precedence (DRIAD only),
// priority and weight (DNS-SD only), discovery_optional, name (type-3 name
// or SRV target, when any), usable, source (the local address used to reach
// it) and reason. With -connect it is an object with relay (the winning
// address), port, tier, relays (all winners, with -relays), attempts (in
// start order: address, port, started_ms, ended_ms, outcome and error) and
// error.
//
// The exit status is 0 when a usable relay was found (or, with -connect,
// reached), 1 with a one-line reason on standard error when none was, and
// 2 for bad usage. A type-0 AMTRELAY record is reported as "the source's
// operator says: no relay".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/gatewayresolver"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// configure, when set (by tests), adjusts the Resolver before use.
var configure func(*gatewayresolver.Resolver)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("amtdiscover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: amtdiscover [flags] source")
		fs.PrintDefaults()
	}
	var servers, domains stringList
	fs.Var(&servers, "server", "DNS server `host:port` (repeatable; default: resolv.conf)")
	noAnycast := fs.Bool("no-anycast", false, "leave out the AMT anycast addresses")
	noDNSSD := fs.Bool("no-dnssd", false, "leave out DNS-SD")
	fs.Var(&domains, "dnssd-domain", "browse _amt._udp.`domain` (repeatable; default: resolv.conf search list)")
	seed := fs.Bool("seed", false, "also look up A/AAAA at amt.<reverse name>")
	port := fs.Uint("port", amt.Port, "relay UDP `port` for DRIAD and anycast candidates")
	doConnect := fs.Bool("connect", false, "run Happy Eyeballs and report the winner")
	relays := fs.Int("relays", 1, "with -connect, the `number` of relays to hold at once")
	confirm := fs.Bool("confirm", false, "with -connect, require a Membership Query without the L flag")
	direct := fs.Bool("direct", false, "with -connect, send a Request without discovery to D=1 relays")
	delay := fs.Duration("delay", gatewayresolver.DefaultConnectionAttemptDelay, "time between connection attempts")
	attemptTimeout := fs.Duration("attempt-timeout", gatewayresolver.DefaultAttemptTimeout, "time before a silent relay counts as failed")
	timeout := fs.Duration("timeout", 20*time.Second, "time limit for everything")
	asJSON := fs.Bool("json", false, "write JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	source, err := netip.ParseAddr(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "amtdiscover: %q is not an IP address\n", fs.Arg(0))
		return 2
	}
	if *port == 0 || *port > 65535 || *relays < 1 {
		fmt.Fprintln(stderr, "amtdiscover: -port must be 1-65535 and -relays at least 1")
		return 2
	}

	r := &gatewayresolver.Resolver{
		Servers:                servers,
		NoAnycast:              *noAnycast,
		NoDNSSD:                *noDNSSD,
		SeedLookup:             *seed,
		Port:                   uint16(*port),
		Confirm:                *confirm,
		DirectRequest:          *direct,
		ConnectionAttemptDelay: *delay,
		AttemptTimeout:         *attemptTimeout,
	}
	if len(domains) > 0 {
		r.DNSSDDomains = domains
	}
	if configure != nil {
		configure(r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	res, err := r.Lookup(ctx, source)
	for _, n := range res.Notes {
		fmt.Fprintf(stderr, "amtdiscover: note: %s\n", oneLine(n.String()))
	}
	if errors.Is(err, gatewayresolver.ErrNoRelay) {
		if *asJSON && !*doConnect {
			writeJSON(stdout, []jsonCandidate{})
		}
		return fail(stderr, err)
	}
	if !*doConnect {
		if *asJSON {
			writeJSON(stdout, candidatesJSON(res.Candidates))
		} else {
			printCandidates(stdout, res.Candidates, uint16(*port))
		}
		if err != nil {
			return fail(stderr, err)
		}
		return 0
	}
	if err != nil {
		if *asJSON {
			writeJSON(stdout, raceJSON(&gatewayresolver.Race{}, err))
		}
		return fail(stderr, err)
	}
	race, err := r.ConnectN(ctx, res.Candidates, *relays) // race is never nil
	if race != nil {
		defer race.Close()
	}
	if *asJSON {
		writeJSON(stdout, raceJSON(race, err))
	} else {
		printRace(stdout, race)
	}
	if err != nil {
		return fail(stderr, err)
	}
	return 0
}

// fail writes a one-line reason and returns the exit status 1.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "amtdiscover: %s\n", oneLine(strings.TrimPrefix(err.Error(), "gatewayresolver: ")))
	return 1
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// printCandidates writes one line per candidate, in order.
func printCandidates(w io.Writer, cands []gatewayresolver.Candidate, port uint16) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, c := range cands {
		d := "D=0"
		if c.DiscoveryOptional {
			d = "D=1"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\treason: %s\n", i+1, addressText(c, port), c.Tier, rank(c), d, c.Reason)
	}
	tw.Flush()
}

// addressText shows the address, with the port when it is not the usual
// one, and the name it came from; or the name of an unresolved candidate.
func addressText(c gatewayresolver.Candidate, port uint16) string {
	if !c.Addr.IsValid() {
		return c.Name + " (unresolved)"
	}
	s := c.Addr.Addr().String()
	if c.Addr.Port() != port {
		s = c.Addr.String()
	}
	if c.Name != "" {
		s += " (" + c.Name + ")"
	}
	return s
}

func rank(c gatewayresolver.Candidate) string {
	switch c.Tier {
	case gatewayresolver.TierDRIAD:
		return fmt.Sprintf("precedence=%d", c.Precedence)
	case gatewayresolver.TierDNSSD:
		return fmt.Sprintf("priority=%d weight=%d", c.Priority, c.Weight)
	}
	return "-"
}

type jsonCandidate struct {
	Address           string `json:"address"`
	Port              uint16 `json:"port,omitempty"`
	Tier              string `json:"tier"`
	Precedence        *int   `json:"precedence,omitempty"`
	Priority          *int   `json:"priority,omitempty"`
	Weight            *int   `json:"weight,omitempty"`
	DiscoveryOptional bool   `json:"discovery_optional"`
	Name              string `json:"name,omitempty"`
	Usable            bool   `json:"usable"`
	Source            string `json:"source,omitempty"`
	Reason            string `json:"reason"`
}

func candidatesJSON(cands []gatewayresolver.Candidate) []jsonCandidate {
	out := make([]jsonCandidate, 0, len(cands))
	for _, c := range cands {
		j := jsonCandidate{
			Tier: c.Tier.String(), DiscoveryOptional: c.DiscoveryOptional,
			Name: c.Name, Usable: c.Usable, Reason: c.Reason,
		}
		if c.Addr.IsValid() {
			j.Address, j.Port = c.Addr.Addr().String(), c.Addr.Port()
		}
		if c.Source.Addr.IsValid() {
			j.Source = c.Source.Addr.String()
		}
		switch c.Tier {
		case gatewayresolver.TierDRIAD:
			p := int(c.Precedence)
			j.Precedence = &p
		case gatewayresolver.TierDNSSD:
			p, w := int(c.Priority), int(c.Weight)
			j.Priority, j.Weight = &p, &w
		}
		out = append(out, j)
	}
	return out
}

type jsonAttempt struct {
	Address   string `json:"address"`
	Port      uint16 `json:"port"`
	StartedMS int64  `json:"started_ms"`
	EndedMS   int64  `json:"ended_ms"`
	Outcome   string `json:"outcome"`
	Error     string `json:"error,omitempty"`
}

type jsonRace struct {
	Relay    string          `json:"relay"`
	Port     uint16          `json:"port,omitempty"`
	Tier     string          `json:"tier,omitempty"`
	Relays   []jsonCandidate `json:"relays,omitempty"`
	Attempts []jsonAttempt   `json:"attempts"`
	Error    string          `json:"error,omitempty"`
}

func raceJSON(race *gatewayresolver.Race, err error) jsonRace {
	j := jsonRace{Attempts: []jsonAttempt{}}
	if len(race.Winners) > 0 {
		w := race.Winners[0]
		j.Relay, j.Port, j.Tier = w.Relay.Addr().String(), w.Relay.Port(), w.Candidate.Tier.String()
	}
	if len(race.Winners) > 1 {
		for _, w := range race.Winners {
			c := w.Candidate
			c.Addr = w.Relay
			j.Relays = append(j.Relays, candidatesJSON([]gatewayresolver.Candidate{c})...)
		}
	}
	for _, a := range race.Attempts {
		ja := jsonAttempt{
			Address: a.Candidate.Addr.Addr().String(), Port: a.Candidate.Addr.Port(),
			StartedMS: a.Started.Milliseconds(), EndedMS: a.Ended.Milliseconds(), Outcome: string(a.Outcome),
		}
		if a.Err != nil {
			ja.Error = a.Err.Error()
		}
		j.Attempts = append(j.Attempts, ja)
	}
	if err != nil {
		j.Error = oneLine(err.Error())
	}
	return j
}

// printRace writes the winners, then each attempt with its timing.
func printRace(w io.Writer, race *gatewayresolver.Race) {
	for _, win := range race.Winners {
		c := win.Candidate
		fmt.Fprintf(w, "relay %s (%s", win.Relay, c.Tier)
		if c.Tier == gatewayresolver.TierDRIAD {
			fmt.Fprintf(w, ", precedence %d", c.Precedence)
		}
		if win.Relay != c.Addr {
			fmt.Fprintf(w, ", discovered via %s", c.Addr)
		}
		fmt.Fprintf(w, ") answered after %d ms", win.Elapsed.Milliseconds())
		if win.Query != nil {
			fmt.Fprint(w, " with a Membership Query without the L flag")
		}
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, a := range race.Attempts {
		fmt.Fprintf(tw, "attempt %d\t%s\tstarted +%d ms\tended +%d ms\t%s", i+1, a.Candidate.Addr, a.Started.Milliseconds(), a.Ended.Milliseconds(), a.Outcome)
		if a.Err != nil {
			fmt.Fprintf(tw, " (%s)", a.Err)
		}
		if a.HeldDown {
			fmt.Fprint(tw, ", held down")
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
