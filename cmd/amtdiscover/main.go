// Command amtdiscover finds the AMT relays a gateway should use for
// multicast traffic from a source, the way RFC 8777 §3 lays out, and can
// connect to the best one that answers. Its command line follows dig's.
//
// Usage:
//
//	amtdiscover [@server] [-p port] [options] SOURCE
//
// Options may come before or after SOURCE. @server is a DNS server's
// address or name ("@127.0.0.1", "@[::1]", "@ns.example"); its port is
// -p's, 53 by default, unless written in ("@[::1]:5353"). Without one, the
// nameservers of /etc/resolv.conf are asked.
//
// It prints the candidates in the order a gateway tries them (DNS-SD, then
// the AMT anycast addresses, then DRIAD by precedence, each sorted by
// RFC 6724 and interleaved by family, with ties broken pseudorandomly), one
// per line, with tier, precedence (DRIAD) or SRV priority and weight
// (DNS-SD), D-bit and the reason for the position:
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
// With -connect it races the candidates as their answers arrive (Happy
// Eyeballs, RFC 8777 §3.2) and exits as soon as a relay is connected: it
// has answered a Request with a Membership Query without the L flag (RFC
// 8777 §3.2.3). It prints the relay and each attempt.
//
// With -join GROUP as well, it joins the channel (SOURCE, GROUP) through
// that relay (RFC 7450 §5.2.3: Membership Update with an IGMPv3 report, or
// MLDv2 for an IPv6 group), receives the multicast data on the same
// socket, and exits after -count packets or at -timeout; it leaves the
// channel before it exits. Loopback sources and relays are accepted, for
// tests:
//
//	amtdiscover -connect -join 232.1.1.1 -count 100 @127.0.0.1 -p 1053 -no-anycast -no-dnssd 127.0.0.1
//
// Options:
//
//	@server, -server host[:port]  DNS server (repeatable)
//	-p port             DNS server port (default 53)
//	-no-anycast         leave out the anycast addresses 192.52.193.1 and 2001:3::1
//	-no-dnssd           leave out DNS-SD
//	-dnssd-domain d     browse _amt._udp.d (repeatable); default the resolv.conf search list
//	                    and the RFC 6763 §11 browsing domains
//	-seed               also look up A/AAAA at amt.<reverse name>
//	-relay-port n       relay UDP port for DRIAD and anycast candidates (default 2268)
//	-connect            race the candidates and report the relay connected
//	-relays n           with -connect, hold n relays at once (RFC 8777 §3.1.3)
//	-advert-only        with -connect, take a Relay Advertisement as success
//	-confirm            with -connect, require a Membership Query without L (the default)
//	-direct             with -connect, send a Request without discovery to D=1 relays
//	-mld                with -connect, ask relays for an MLDv2 query, not IGMPv3 (RFC 7450 §5.1.3.4)
//	-join group         with -connect, join (SOURCE, group) through the relay and receive its data
//	-count n            with -join, exit after n packets (default 1)
//	-delay d            time between connection attempts (default 250ms; clamped to 10ms-2s)
//	-attempt-timeout d  time before a silent relay counts as failed (default 3s)
//	-timeout d          time limit for everything (default 20s)
//	-json               write one JSON object to standard output
//	-v                  show the reverse name, each DNS query with its rcode and TTL, the
//	                    chains followed and each attempt, on standard error
//	-version            print the version
//
// With -json, the output is one JSON object in every mode: source,
// reverse_name, candidates (each with address, port, tier, precedence,
// discovery_optional, name, ttl, usable, reason, and priority and weight
// for DNS-SD), no_relay, rcode (the mnemonic of the AMTRELAY reply at the
// reverse name, such as "NOERROR" or "NXDOMAIN", or null without a reply),
// notes, and error (null or text). With -connect it also has relay (the
// connected relay's address, or null), relay_port, and attempts (each with
// address, port, started_ms, ended_ms, outcome, relay and error). With
// -join it also has group, received (packets), first_data_ms (from the join
// to the first packet), and the first packet's data_source,
// data_source_port and data_dest_port. Missing values are null.
//
// Exit status:
//
//	0  a usable candidate was found; with -connect, a relay is connected
//	3  the source's operator says "no relay" (a type-0 AMTRELAY record)
//	4  nothing usable is published: NXDOMAIN, NODATA, or only records this host cannot use
//	5  DNS failed: no answer, SERVFAIL, REFUSED
//	6  with -connect: candidates were tried and no relay answered
//	7  with -join: a relay is connected, but no data came within -timeout
//	2  bad usage
//	1  internal error
//
// Statuses 3 to 5 come from the DRIAD query, when no tier gave a usable
// candidate.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/gatewayresolver"
	"github.com/amtrelay/amtrelay/internal/version"
)

// Exit statuses.
const (
	exitOK       = 0
	exitInternal = 1
	exitUsage    = 2
	exitNoRelay  = 3
	exitNothing  = 4
	exitDNS      = 5
	exitNoAnswer = 6
	exitNoData   = 7
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// configure, when set (by tests), adjusts the Resolver before use.
var configure func(*gatewayresolver.Resolver)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// positiveDuration is a duration flag that refuses zero and negative
// values when it is read.
type positiveDuration struct{ d time.Duration }

func (p *positiveDuration) String() string { return p.d.String() }
func (p *positiveDuration) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return err
	}
	if d <= 0 {
		return fmt.Errorf("%v: must be positive", d)
	}
	p.d = d
	return nil
}

// removedFlag refuses a flag that was renamed.
type removedFlag struct{ msg string }

func (r removedFlag) String() string   { return "" }
func (r removedFlag) Set(string) error { return errors.New(r.msg) }

// The Connection Attempt Delay bounds of RFC 8305 §5 the Resolver clamps to.
const (
	minAttemptDelay = 10 * time.Millisecond
	maxAttemptDelay = 2 * time.Second
)

const usageText = `usage: amtdiscover [@server] [-p port] [options] SOURCE

Finds the AMT relays for multicast traffic from SOURCE (RFC 8777) and
lists them in the order a gateway tries them; -connect races them;
-join GROUP then receives (SOURCE, GROUP) through the relay.

Exit status: 0 a usable candidate (with -connect: a relay connected);
otherwise, from the DRIAD query: 3 the source's operator says "no relay"
(type 0), 4 nothing usable published (NXDOMAIN, NODATA), 5 DNS failed;
6 with -connect, no relay answered; 7 with -join, connected but no data
within -timeout; 2 bad usage; 1 internal error.

Options:
`

type options struct {
	servers, domains                     stringList
	dnsPort, relayPort, relays           uint
	noAnycast, noDNSSD, seed             bool
	connect, advertOnly, direct, mld     bool
	asJSON, verbose, showVersion         bool
	delay, attemptTimeout, timeout       positiveDuration
	delaySet, attemptTimeoutSet, confirm bool
	join                                 string
	count                                uint
}

func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("amtdiscover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&o.servers, "server", "DNS server `host[:port]`, like @server (repeatable; default: resolv.conf)")
	fs.UintVar(&o.dnsPort, "p", 53, "DNS server `port`")
	fs.BoolVar(&o.noAnycast, "no-anycast", false, "leave out the AMT anycast addresses")
	fs.BoolVar(&o.noDNSSD, "no-dnssd", false, "leave out DNS-SD")
	fs.Var(&o.domains, "dnssd-domain", "browse _amt._udp.`domain` (repeatable; default: resolv.conf search list and RFC 6763 §11 domains)")
	fs.BoolVar(&o.seed, "seed", false, "also look up A/AAAA at amt.<reverse name>")
	fs.UintVar(&o.relayPort, "relay-port", amt.Port, "relay UDP `port` for DRIAD and anycast candidates")
	fs.Var(removedFlag{"-port is now -relay-port (the relays' UDP port); -p sets the DNS server's port"}, "port", "renamed: use -relay-port")
	fs.BoolVar(&o.connect, "connect", false, "race the candidates and report the relay connected")
	fs.UintVar(&o.relays, "relays", 1, "with -connect, the `number` of relays to hold at once")
	fs.BoolVar(&o.advertOnly, "advert-only", false, "with -connect, take a Relay Advertisement as success")
	fs.BoolVar(&o.confirm, "confirm", false, "with -connect, require a Membership Query without the L flag (the default)")
	fs.BoolVar(&o.direct, "direct", false, "with -connect, send a Request without discovery to D=1 relays")
	fs.BoolVar(&o.mld, "mld", false, "with -connect, ask for an MLDv2 query rather than IGMPv3 (RFC 7450 §5.1.3.4)")
	o.delay.d, o.attemptTimeout.d, o.timeout.d = 250*time.Millisecond, 3*time.Second, 20*time.Second
	fs.Var(&o.delay, "delay", "`time` between connection attempts (10ms-2s)")
	fs.Var(&o.attemptTimeout, "attempt-timeout", "`time` before a silent relay counts as failed")
	fs.Var(&o.timeout, "timeout", "`time` limit for everything")
	fs.StringVar(&o.join, "join", "", "with -connect, join (SOURCE, `group`) through the relay and receive its data")
	fs.UintVar(&o.count, "count", 1, "with -join, exit after this `number` of packets")
	fs.BoolVar(&o.asJSON, "json", false, "write one JSON object")
	fs.BoolVar(&o.verbose, "v", false, "show DNS queries, chains and attempts on standard error")
	fs.BoolVar(&o.showVersion, "version", false, "print the version")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	return fs
}

// reorder splits dig-style arguments: @server words, flags (with their
// values) and the rest, so that flags may follow the source.
func reorder(fs *flag.FlagSet, args []string) (at, flags, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return at, flags, append(rest, args[i+1:]...)
		case strings.HasPrefix(a, "@") && len(a) > 1:
			at = append(at, a[1:])
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	return at, flags, rest
}

// serverAddr makes "host:port" of an @server or -server word: brackets
// are taken off a bare IPv6 address, and port is added unless one is
// written in.
func serverAddr(s string, port uint) (string, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), nil
	}
	host := s
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(a.String(), strconv.Itoa(int(port))), nil
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil || h == "" {
			return "", fmt.Errorf("bad server %q", s)
		}
		return s, nil
	}
	if _, ok := dns.IsDomainName(host); !ok || host == "" || strings.ContainsAny(host, "[]:") {
		return "", fmt.Errorf("bad server %q", s)
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port))), nil
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet(&o, stderr)
	at, flags, rest := reorder(fs, args)
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	rest = append(rest, fs.Args()...)
	if o.showVersion {
		fmt.Fprintln(stdout, "amtdiscover", version.String())
		return exitOK
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "amtdiscover: "+format+"\n", a...)
		fmt.Fprintln(stderr, "usage: amtdiscover [@server] [-p port] [options] SOURCE (-h for help)")
		return exitUsage
	}
	if len(rest) != 1 {
		return usage("want one SOURCE address, have %d arguments", len(rest))
	}
	source, err := netip.ParseAddr(rest[0])
	if err != nil {
		return usage("%q is not an IP address", rest[0])
	}
	if _, err := gatewayresolver.ReverseName(source); err != nil {
		return usage("%s", strings.TrimPrefix(err.Error(), "gatewayresolver: "))
	}
	fs.Visit(func(f *flag.Flag) {
		o.delaySet = o.delaySet || f.Name == "delay"
		o.attemptTimeoutSet = o.attemptTimeoutSet || f.Name == "attempt-timeout"
	})
	switch {
	case o.dnsPort == 0 || o.dnsPort > 65535:
		return usage("-p must be 1-65535")
	case o.relayPort == 0 || o.relayPort > 65535:
		return usage("-relay-port must be 1-65535")
	case o.relays < 1 || o.relays > 16:
		return usage("-relays must be 1-16")
	case o.advertOnly && o.confirm:
		return usage("-advert-only and -confirm contradict each other")
	}
	var group netip.Addr
	if o.join != "" {
		g, err := netip.ParseAddr(o.join)
		switch {
		case err != nil || !g.IsMulticast():
			return usage("-join %q is not a multicast group address", o.join)
		case g.Is4() != source.Unmap().Is4():
			return usage("-join %v and SOURCE %v are of different address families", g, source)
		case !o.connect || o.advertOnly:
			return usage("-join needs -connect (and a Membership Query: not -advert-only)")
		case o.count < 1:
			return usage("-count must be at least 1")
		}
		group = g
		// The relay must answer with the protocol of the group (RFC 7450
		// §5.1.3.4): MLDv2 for an IPv6 group.
		o.mld = g.Is6()
	}
	var servers []string
	for _, s := range append(at, o.servers...) {
		addr, err := serverAddr(s, o.dnsPort)
		if err != nil {
			return usage("%v", err)
		}
		servers = append(servers, addr)
	}
	if d := o.delay.d; o.delaySet && (d < minAttemptDelay || d > maxAttemptDelay) {
		clamped := min(max(d, minAttemptDelay), maxAttemptDelay)
		fmt.Fprintf(stderr, "amtdiscover: -delay %v clamped to %v (RFC 8305 §5 bounds the Connection Attempt Delay to 10ms-2s)\n", d, clamped)
	}

	r := &gatewayresolver.Resolver{
		Servers:                servers,
		Port:                   uint16(o.relayPort),
		AdvertOnly:             o.advertOnly,
		DirectRequest:          o.direct,
		MLD:                    o.mld,
		ConnectionAttemptDelay: o.delay.d,
		AttemptTimeout:         o.attemptTimeout.d,
	}
	for _, t := range []struct {
		tier gatewayresolver.Tier
		on   bool
	}{
		{gatewayresolver.TierDNSSD, !o.noDNSSD},
		{gatewayresolver.TierAnycast, !o.noAnycast},
		{gatewayresolver.TierDRIAD, true},
		{gatewayresolver.TierSeed, o.seed},
	} {
		if t.on {
			r.Tiers = append(r.Tiers, t.tier)
		}
	}
	if len(o.domains) > 0 {
		r.DNSSDDomains = o.domains
	}
	if o.verbose {
		r.Trace = func(line string) { fmt.Fprintln(stderr, ";; "+line) }
	}
	if configure != nil {
		configure(r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout.d)
	defer cancel()

	var (
		res  *gatewayresolver.Result
		race *gatewayresolver.Race
	)
	if o.connect {
		race, err = r.DialN(ctx, source, int(o.relays))
		defer race.Close()
		res = race.Lookup
	} else {
		res, err = r.Lookup(ctx, source)
	}
	code := exitCode(res, race, o.connect)
	var rx *reception
	if group.IsValid() && code == exitOK {
		rx = receive(ctx, &race.Winners[0], source, group, int(o.count))
		if rx.received == 0 {
			code = exitNoData
			err = rx.err
		}
	}
	if o.asJSON {
		j := report(source, res, race, o.connect, err, code)
		if group.IsValid() {
			j.jsonRace.jsonJoin = joinJSON(group, rx)
		}
		if werr := writeJSON(stdout, j); werr != nil {
			fmt.Fprintf(stderr, "amtdiscover: %v\n", werr)
			return exitInternal
		}
		return code
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stderr, "amtdiscover: note: %s\n", oneLine(n.String()))
	}
	if o.connect {
		printRace(stdout, race)
		if rx != nil {
			printReception(stdout, group, rx)
		}
	} else if !res.NoRelay {
		printCandidates(stdout, res.Candidates, uint16(o.relayPort))
	}
	if code != exitOK {
		fmt.Fprintf(stderr, "amtdiscover: %s\n", failure(err, res, code))
	}
	return code
}

// exitCode is the final outcome: a usable candidate (or a connected relay),
// else what the DRIAD query said.
func exitCode(res *gatewayresolver.Result, race *gatewayresolver.Race, connect bool) int {
	switch {
	case connect && len(race.Winners) > 0:
		return exitOK
	case connect && len(race.Attempts) > 0:
		return exitNoAnswer
	case !connect && len(res.Usable()) > 0:
		return exitOK
	case res.NoRelay:
		return exitNoRelay
	case res.Rcode == dns.RcodeSuccess || res.Rcode == dns.RcodeNameError:
		return exitNothing
	}
	return exitDNS
}

// failure is the one-line reason for a non-zero exit.
func failure(err error, res *gatewayresolver.Result, code int) string {
	if err == nil {
		switch code {
		case exitNothing:
			return "nothing usable published"
		case exitDNS:
			return "DNS failed"
		}
		return "failed"
	}
	msg := strings.TrimPrefix(oneLine(err.Error()), "gatewayresolver: ")
	if code == exitDNS && res.Rcode >= 0 {
		msg = fmt.Sprintf("DNS failed (%s): %s", dns.RcodeToString[res.Rcode], msg)
	}
	return msg
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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
			fmt.Fprintf(tw, " (%s)", oneLine(a.Err.Error()))
		}
		if a.HeldDown {
			fmt.Fprint(tw, ", held down")
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
