package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
)

func startRelay(t *testing.T, b amttest.Behaviour) *amttest.Relay {
	t.Helper()
	r, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Set(b)
	t.Cleanup(func() { r.Close() })
	return r
}

// relayCands makes a usable DRIAD candidate for each loopback relay, in
// order, all at precedence 10.
func relayCands(relays ...*amttest.Relay) []Candidate {
	var out []Candidate
	for _, r := range relays {
		out = append(out, Candidate{Addr: r.Addr(), Tier: TierDRIAD, Precedence: 10, Usable: true})
	}
	return out
}

// socketTracker is a DialUDP that connects to loopback only and remembers
// every socket, to check that losers' sockets are closed.
type socketTracker struct {
	mu    sync.Mutex
	conns []*trackedConn
}

type trackedConn struct {
	net.Conn
	mu     sync.Mutex
	closed bool
}

func (c *trackedConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.Conn.Close()
}

func (c *trackedConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// DialUDP refuses anything but loopback: no test packet may leave the
// machine (the anycast and documentation addresses are not on it).
func (s *socketTracker) DialUDP(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		panic(fmt.Sprintf("test tried to connect to %v", address))
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c}
	s.mu.Lock()
	s.conns = append(s.conns, tc)
	s.mu.Unlock()
	return tc, nil
}

func (s *socketTracker) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if !c.isClosed() {
			n++
		}
	}
	return n
}

// connectResolver is a Resolver for loopback relays whose attempts time
// out only after 30 s, so that no answer is lost to a slow machine; tests
// of timeouts set AttemptTimeout.
func connectResolver(tr *socketTracker) *Resolver {
	return &Resolver{Tiers: []Tier{TierDRIAD}, DialUDP: tr.DialUDP, SourceFor: testSources, AttemptTimeout: 30 * time.Second}
}

func connect(t *testing.T, r *Resolver, cands []Candidate) (*Race, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	race, err := r.Connect(ctx, cands)
	t.Cleanup(func() { race.Close() })
	return race, err
}

// TestHappyEyeballsTiming: with the first three relays silent and the
// fourth answering after 50 ms, the race starts them one after another,
// each at least the 250 ms attempt delay after the one before, and
// connects while the silent ones still wait: their attempts time out only
// after 30 s, so waiting for them in turn would take 90 s. The losers are
// cancelled: their sockets closed, not held down.
func TestHappyEyeballsTiming(t *testing.T) {
	silent := []*amttest.Relay{startRelay(t, amttest.Behaviour{Drop: true}), startRelay(t, amttest.Behaviour{Drop: true}), startRelay(t, amttest.Behaviour{Drop: true})}
	live := startRelay(t, amttest.Behaviour{Delay: 50 * time.Millisecond})
	tr := &socketTracker{}
	r := connectResolver(tr)
	r.AttemptTimeout = 30 * time.Second
	start := time.Now()
	race, err := connect(t, r, relayCands(append(silent, live)...))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("connected in %v", took)
	for i, a := range race.Attempts {
		t.Logf("attempt %d %v started %v ended %v %s", i+1, a.Candidate.Addr, a.Started.Round(time.Millisecond), a.Ended.Round(time.Millisecond), a.Outcome)
	}
	if took > 10*time.Second {
		t.Errorf("connected after %v, want well under the 30 s attempt timeout", took)
	}
	if len(race.Winners) != 1 || race.Winners[0].Candidate.Addr != live.Addr() || race.Winners[0].Relay != live.Addr() {
		t.Fatalf("winners %+v", race.Winners)
	}
	if len(race.Attempts) != 4 {
		t.Fatalf("%d attempts", len(race.Attempts))
	}
	for i, a := range race.Attempts {
		if i > 0 {
			// The delay timer is set after attempt i-1 started, and a
			// timer never fires early.
			if gap := a.Started - race.Attempts[i-1].Started; gap < defaultConnectionAttemptDelay {
				t.Errorf("attempt %d started %v after attempt %d, want at least %v", i+1, gap, i, defaultConnectionAttemptDelay)
			}
		}
		wantOutcome := OutcomeCancelled
		if i == 3 {
			wantOutcome = OutcomeConnected
		}
		if a.Outcome != wantOutcome || a.HeldDown || a.Won != (i == 3) {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
	// Each silent relay was tried (a slow machine may let Discover
	// retransmit, after 1 s, before the race ends).
	for i, s := range silent {
		if s.Discoveries() < 1 {
			t.Errorf("silent relay %d got %d discoveries", i, s.Discoveries())
		}
	}
	if n := tr.open(); n != 1 {
		t.Errorf("%d sockets open after the race, want the winner's only", n)
	}
	race.Close()
	if n := tr.open(); n != 0 {
		t.Errorf("%d sockets open after Close", n)
	}
	if r.Holds().Len() != 0 {
		t.Errorf("cancelled relays were held down")
	}
}

// TestConnectNoGoroutineLeak: Connect returns only when every attempt has
// ended.
func TestConnectNoGoroutineLeak(t *testing.T) {
	silent := startRelay(t, amttest.Behaviour{Drop: true})
	live := startRelay(t, amttest.Behaviour{})
	tr := &socketTracker{}
	r := connectResolver(tr)
	r.ConnectionAttemptDelay = 10 * time.Millisecond
	time.Sleep(10 * time.Millisecond)
	before := runtime.NumGoroutine()
	for range 5 {
		race, err := r.Connect(context.Background(), relayCands(silent, live))
		if err != nil {
			t.Fatal(err)
		}
		race.Close()
	}
	after := runtime.NumGoroutine()
	for i := 0; i < 1000 && after > before; i++ { // up to 10 s on a slow machine
		time.Sleep(10 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
	if n := tr.open(); n != 0 {
		t.Errorf("%d sockets left open", n)
	}
}

// TestConnectLimitHoldDown: a relay whose Membership Query has the L flag
// loses, goes into hold-down (RFC 8777 §3.3.5), and is skipped next time,
// by the order and by Connect, while another relay answers.
func TestConnectLimitHoldDown(t *testing.T) {
	full := startRelay(t, amttest.Behaviour{Limit: true})
	ok := startRelay(t, amttest.Behaviour{Delay: 20 * time.Millisecond})
	tr := &socketTracker{}
	r := connectResolver(tr)
	r.testAttemptDelay = time.Hour // only the full relay's failure can start the second attempt
	clock := &fakeClock{now: time.Now()}
	r.HoldDown = &HoldDown{Now: clock.Now}
	race, err := connect(t, r, relayCands(full, ok))
	if err != nil {
		t.Fatal(err)
	}
	if w := race.Winners[0]; w.Candidate.Addr != ok.Addr() || w.Query == nil || w.Query.Limit {
		t.Fatalf("winner %+v", w)
	}
	a := race.Attempts[0]
	if a.Outcome != OutcomeLimit || !a.HeldDown || !errors.Is(a.Err, ErrLimit) {
		t.Errorf("full relay attempt %+v", a)
	}
	// The full relay answered at once, so the next attempt started when
	// it ended, without waiting for the attempt delay (RFC 8305 §5), here
	// an hour.
	if s, e := race.Attempts[1].Started, a.Ended; s < e || s > 10*time.Second {
		t.Errorf("second attempt started at %v, first ended at %v", s, e)
	}
	until, _, held := r.Holds().Held(full.Addr())
	if !held || until.Sub(clock.now) != defaultHoldDown {
		t.Errorf("hold-down %v %v", until, held)
	}

	// Next time: ordered as unusable, and not tried.
	cands := r.order(relayCands(full, ok))
	if cands[0].Addr != ok.Addr() || cands[1].Usable {
		t.Errorf("order after hold-down: %+v", cands)
	}
	discoveries := full.Discoveries()
	race, err = connect(t, r, relayCands(full, ok))
	if err != nil || len(race.Attempts) != 1 || full.Discoveries() != discoveries {
		t.Errorf("second race: %v, %d attempts", err, len(race.Attempts))
	}
	clock.Advance(defaultHoldDown)
	if _, _, held := r.Holds().Held(full.Addr()); held {
		t.Error("still held after 10 minutes")
	}
}

// TestConnectDirectRequest: with the D-bit set, DirectRequest skips Relay
// Discovery and sends a Request (RFC 8777 §4.2.2); without the D-bit, it
// discovers first.
func TestConnectDirectRequest(t *testing.T) {
	relay := startRelay(t, amttest.Behaviour{})
	r := connectResolver(&socketTracker{})
	r.DirectRequest = true
	c := relayCands(relay)
	c[0].DiscoveryOptional = true
	race, err := connect(t, r, c)
	if err != nil {
		t.Fatal(err)
	}
	if relay.Discoveries() != 0 || relay.Requests() != 1 || !race.Attempts[0].Direct || race.Attempts[0].Outcome != OutcomeConnected || race.Winners[0].Query == nil {
		t.Errorf("D=1: %d discoveries, %d requests, %+v", relay.Discoveries(), relay.Requests(), race.Attempts[0])
	}
	c[0].DiscoveryOptional = false
	if race, err := connect(t, r, c); err != nil || relay.Discoveries() != 1 || relay.Requests() != 2 || race.Attempts[0].Direct {
		t.Errorf("D=0: %v, %d discoveries, %d requests", err, relay.Discoveries(), relay.Requests())
	}
	// Without DirectRequest the D-bit changes nothing.
	r2 := connectResolver(&socketTracker{})
	c[0].DiscoveryOptional = true
	if race, err := connect(t, r2, c); err != nil || relay.Discoveries() != 2 || race.Attempts[0].Direct {
		t.Errorf("no DirectRequest: %v, %d discoveries", err, relay.Discoveries())
	}
}

// TestConnectForgedAdvertisements: Advertisements with the wrong nonce or
// of the wrong length are ignored, and those from the wrong port never
// reach the connected socket; the genuine one wins and the relay address is
// never taken from a forgery.
func TestConnectForgedAdvertisements(t *testing.T) {
	forger, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	relay := startRelay(t, amttest.Behaviour{Delay: 20 * time.Millisecond, Decoys: func(reply []byte) [][]byte {
		wrongNonce := append([]byte(nil), reply...)
		wrongNonce[7] ^= 1
		redirect := amt.Advertisement{Relay: netip.MustParseAddr("127.0.0.99")}
		redirect.Nonce = 0x01020304
		long := append(append([]byte(nil), reply...), 0)
		return [][]byte{wrongNonce, redirect.Append(nil), long, reply[:11], {0x12, 0, 0, 0}}
	}})
	r := connectResolver(&socketTracker{})
	r.AdvertOnly = true
	race, err := connect(t, r, relayCands(relay))
	if err != nil {
		t.Fatal(err)
	}
	if a := race.Attempts[0]; a.Ignored != 5 || race.Winners[0].Relay != relay.Addr() {
		t.Errorf("ignored %d, relay %v", a.Ignored, race.Winners[0].Relay)
	}

	// Only forgeries from another port: the kernel drops them, since the
	// socket is connected to the relay, and the attempt times out.
	relay.Set(amttest.Behaviour{Drop: true, DecoyFrom: forger, Decoys: func(reply []byte) [][]byte { return [][]byte{reply} }})
	r.AttemptTimeout = 2 * time.Second
	race, err = connect(t, r, relayCands(relay))
	if !errors.Is(err, ErrAllFailed) || race.Attempts[0].Outcome != OutcomeTimeout || race.Attempts[0].Ignored != 0 || !race.Attempts[0].HeldDown {
		t.Errorf("err %v, attempt %+v", err, race.Attempts[0])
	}
}

// TestConnectBadAdvertisedAddress: a relay advertising 0.0.0.0 or a
// multicast address loses and is held down.
func TestConnectBadAdvertisedAddress(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if nonce, err := amt.ParseDiscovery(buf[:n]); err == nil {
				pc.WriteTo(amt.Advertisement{Nonce: nonce, Relay: netip.MustParseAddr("224.0.0.1")}.Append(nil), from)
			}
		}
	}()
	r := connectResolver(&socketTracker{})
	race, err := connect(t, r, []Candidate{{Addr: pc.LocalAddr().(*net.UDPAddr).AddrPort(), Tier: TierDRIAD, Usable: true}})
	if !errors.Is(err, ErrAllFailed) || !errors.Is(race.Attempts[0].Err, ErrBadAdvertisement) || !race.Attempts[0].HeldDown {
		t.Errorf("err %v, attempt %+v", err, race.Attempts[0])
	}
}

// TestConnectAllFail: silent relays time out, get a timeout penalty, and
// the error says so; the attempts still start the attempt delay apart, not
// one timeout after another: eight relays with a 1 s timeout would take
// at least 8 s in turn, and take about 1 s. Tried again, the relays held
// down by the penalty are raced once more, as a last resort; held down
// with HoldDown.Add, they are not.
func TestConnectAllFail(t *testing.T) {
	var relays []*amttest.Relay
	for range 8 {
		relays = append(relays, startRelay(t, amttest.Behaviour{Drop: true}))
	}
	r := connectResolver(&socketTracker{})
	r.ConnectionAttemptDelay = minConnectionAttemptDelay
	r.AttemptTimeout = time.Second
	start := time.Now()
	race, err := connect(t, r, relayCands(relays...))
	took := time.Since(start)
	if !errors.Is(err, ErrAllFailed) {
		t.Fatalf("err %v", err)
	}
	if len(race.Attempts) != len(relays) {
		t.Fatalf("%d attempts", len(race.Attempts))
	}
	if last := race.Attempts[len(relays)-1].Started; took < last+r.AttemptTimeout || took > 6*time.Second {
		t.Errorf("took %v, last attempt started at %v: want its %v timeout, and well under 8 timeouts", took, last, r.AttemptTimeout)
	}
	for i, at := range race.Attempts {
		if i > 0 && at.Started-race.Attempts[i-1].Started < minConnectionAttemptDelay {
			t.Errorf("attempt %d started %v after the one before", i+1, at.Started-race.Attempts[i-1].Started)
		}
		if at.Outcome != OutcomeTimeout || !at.HeldDown || at.Ended-at.Started < r.AttemptTimeout {
			t.Errorf("%+v", at)
		}
	}
	if r.Holds().Len() != len(relays) {
		t.Errorf("%d held down", r.Holds().Len())
	}
	r.AttemptTimeout = 100 * time.Millisecond
	if race, err := connect(t, r, relayCands(relays...)); !errors.Is(err, ErrAllFailed) || len(race.Attempts) != len(relays) {
		t.Errorf("all held down by timeouts: err %v, %d attempts", err, len(race.Attempts))
	}
	for _, relay := range relays {
		r.Holds().Add(relay.Addr(), time.Hour, "no traffic")
	}
	if race, err := connect(t, r, relayCands(relays...)); !errors.Is(err, ErrNoCandidates) || len(race.Attempts) != 0 {
		t.Errorf("all held down with Add: err %v, %d attempts", err, len(race.Attempts))
	}
}

// TestConnectSkipsUnusable: unusable and duplicate candidates are not
// tried.
func TestConnectSkipsUnusable(t *testing.T) {
	relay := startRelay(t, amttest.Behaviour{})
	r := connectResolver(&socketTracker{})
	cands := append(relayCands(relay, relay), Candidate{Tier: TierDRIAD, Name: "unresolved.example."})
	cands = append([]Candidate{{Addr: netip.MustParseAddrPort("127.0.0.1:9"), Tier: TierDRIAD}}, cands...) // not usable
	race, err := connect(t, r, cands)
	if err != nil || len(race.Attempts) != 1 || relay.Discoveries() != 1 || len(race.Candidates) != 4 {
		t.Errorf("err %v, %d attempts, %d discoveries", err, len(race.Attempts), relay.Discoveries())
	}
}

// TestConnectN holds two relays at once (RFC 8777 §3.1.3), in order,
// past a full one. The attempt delay is an hour, so each attempt starts
// when the one before has ended and the order cannot depend on timing.
func TestConnectN(t *testing.T) {
	a := startRelay(t, amttest.Behaviour{Limit: true})
	b := startRelay(t, amttest.Behaviour{})
	c := startRelay(t, amttest.Behaviour{})
	d := startRelay(t, amttest.Behaviour{})
	r := connectResolver(&socketTracker{})
	r.testAttemptDelay = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	race, err := r.ConnectN(ctx, relayCands(a, b, c, d), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer race.Close()
	if len(race.Winners) != 2 || race.Winners[0].Candidate.Addr != b.Addr() || race.Winners[1].Candidate.Addr != c.Addr() {
		t.Errorf("winners %+v", race.Winners)
	}
	if len(race.Attempts) != 3 || race.Attempts[0].Outcome != OutcomeLimit {
		t.Errorf("attempts %+v", race.Attempts)
	}
	if d.Discoveries() != 0 {
		t.Error("the fourth relay was tried after two had answered")
	}
}

func TestConnectionAttemptDelayBounds(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0: 250 * time.Millisecond, time.Millisecond: 10 * time.Millisecond, 100 * time.Millisecond: 100 * time.Millisecond,
		time.Second: time.Second, time.Minute: 2 * time.Second, -time.Second: 10 * time.Millisecond,
	} {
		if got := (&Resolver{ConnectionAttemptDelay: in}).attemptDelay(); got != want {
			t.Errorf("ConnectionAttemptDelay %v → %v, want %v", in, got, want)
		}
	}
}

// TestConnectContextCancel: ctx ending ends the race at once, not when the
// attempt times out (after 30 s).
func TestConnectContextCancel(t *testing.T) {
	a := startRelay(t, amttest.Behaviour{Drop: true})
	tr := &socketTracker{}
	r := connectResolver(tr)
	r.AttemptTimeout = 30 * time.Second
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	race, err := r.Connect(ctx, relayCands(a))
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took < 100*time.Millisecond || took > 10*time.Second {
		t.Errorf("err %v after %v", err, took)
	}
	if race.Attempts[0].Outcome != OutcomeCancelled || race.Attempts[0].HeldDown || tr.open() != 0 {
		t.Errorf("attempt %+v, %d open", race.Attempts[0], tr.open())
	}
}

// TestDialEndToEnd: DNS-SD and DRIAD answers from the test DNS server
// lead to loopback relays; the DRIAD answer is 3 s late, so the DNS-SD
// ones are tried first, in SRV priority order. The dead DNS-SD relay is
// passed over after one attempt delay, while its attempt still runs (it
// would time out after 30 s), and the live one connects with a Membership
// Query; the late DRIAD lookup is then cancelled, and named as pending.
func TestDialEndToEnd(t *testing.T) {
	dead := startRelay(t, amttest.Behaviour{Drop: true})
	live := startRelay(t, amttest.Behaviour{})
	port := func(r *amttest.Relay) string { return itoa(int(r.Addr().Port())) }
	srv := startServer(t,
		"_amt._udp.example.net. 60 IN PTR dead._amt._udp.example.net.",
		"_amt._udp.example.net. 60 IN PTR live._amt._udp.example.net.",
		"dead._amt._udp.example.net. 60 IN SRV 1 0 "+port(dead)+" lo.example.net.",
		"live._amt._udp.example.net. 60 IN SRV 2 0 "+port(live)+" lo.example.net.",
		"lo.example.net. 60 IN A 127.0.0.1",
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 1 1 127.0.0.1",
	)
	srv.with(func() { srv.delay[qkey("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)] = 3 * time.Second })
	r := testResolver(srv.Addr)
	r.Tiers = []Tier{TierDNSSD, TierDRIAD}
	r.DNSSDDomains = []string{"example.net"}
	r.Port = live.Addr().Port()
	r.AttemptTimeout = 30 * time.Second
	// The two SRV answers come a moment apart; the race waits for the
	// second (priority 1), up to the Resolution Delay, which a busy
	// machine could exceed: here it is long.
	r.resolutionDelay = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	race, err := r.Dial(ctx, rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	defer race.Close()
	if got := addrsOfCands(race.Lookup.Candidates); len(got) != 2 {
		t.Errorf("candidates %v", got)
	}
	if n := race.Lookup.Notes; len(n) != 1 || !errors.Is(n[0].Err, errPending) || !strings.Contains(n[0].Err.Error(), "AMTRELAY") {
		t.Errorf("notes %v", n)
	}
	w := race.Winners[0]
	if w.Candidate.Tier != TierDNSSD || w.Candidate.Addr != live.Addr() || w.Query == nil || race.Attempts[0].Candidate.Addr != dead.Addr() {
		t.Errorf("winner %+v after %+v", w, race.Attempts)
	}
	if s := race.Attempts[1].Started; s < defaultConnectionAttemptDelay || s > 10*time.Second || race.Attempts[0].Outcome != OutcomeCancelled {
		t.Errorf("second attempt started at %v; first %+v", s, race.Attempts[0])
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// dial runs r.Dial for rfcSource with a 10 s limit.
func dial(t *testing.T, r *Resolver) (*Race, error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	race, err := r.Dial(ctx, rfcSource)
	t.Cleanup(func() { race.Close() })
	return race, err, time.Since(start)
}

// TestDialDoesNotWaitForDNS (issue #10): Dial connects while a DNS query
// of another tier or name is still unanswered (RFC 8777 §3.2.2, RFC 8305
// §3). The dropped query would time out after 20 s; Dial has 10 s. The
// old Dial waited for every tier's slowest query and failed.
func TestDialDoesNotWaitForDNS(t *testing.T) {
	for _, drop := range []string{"PTR", "TXT", "AAAA of lower-precedence name"} {
		t.Run(drop, func(t *testing.T) {
			// The relay's 100 ms per reply leaves the lookups time to
			// have asked the dropped question before the race ends.
			live := startRelay(t, amttest.Behaviour{Delay: 100 * time.Millisecond})
			port := itoa(int(live.Addr().Port()))
			srv := startServer(t,
				"_amt._udp.example.net. 60 IN PTR a._amt._udp.example.net.",
				"a._amt._udp.example.net. 60 IN SRV 0 0 "+port+" lo.example.net.",
				"a._amt._udp.example.net. 60 IN TXT \"x=1\"",
				"lo.example.net. 60 IN A 127.0.0.1",
				"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 1 127.0.0.1",
				"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 20 0 3 slow.example.net.",
				"slow.example.net. 60 IN AAAA 2001:db8::99", // no A: the A answer is NODATA
			)
			key := map[string]string{
				"PTR":                           qkey("_amt._udp.example.net.", dns.TypePTR),
				"TXT":                           qkey("a._amt._udp.example.net.", dns.TypeTXT),
				"AAAA of lower-precedence name": qkey("slow.example.net.", dns.TypeAAAA),
			}[drop]
			srv.with(func() { srv.drop[key] = 1000 })
			r := testResolver(srv.Addr)
			r.Tiers = []Tier{TierDNSSD, TierDRIAD}
			r.DNSSDDomains = []string{"example.net"}
			r.Port = live.Addr().Port()
			r.RetryInitial, r.RetryMax, r.queryAttempts = 20*time.Second, 20*time.Second, 1
			r.AttemptTimeout = 30 * time.Second
			race, err, took := dial(t, r)
			if err != nil || live.Discoveries() == 0 {
				t.Fatalf("Dial with one %s query dropped (it times out after 20 s): %v after %v, %d discoveries", drop, err, took, live.Discoveries())
			}
			t.Logf("connected after %v", took)
			pending := false
			for _, n := range race.Lookup.Notes {
				pending = pending || errors.Is(n.Err, errPending) && strings.HasPrefix(key, strings.Fields(strings.TrimPrefix(n.Err.Error(), errPending.Error()+": "))[0])
			}
			if !pending {
				t.Errorf("notes %v do not name the pending %s query", race.Lookup.Notes, drop)
			}
		})
	}
}

// TestLateAAnswerJoins (issue #10): a type-3 name's A answer, 200 ms after
// its AAAA answer, joins the race (RFC 8305 §3, RFC 8777 §4.2.4). ::1 has no
// relay: the connected socket gets ICMP port unreachable and the A address
// is tried. The old code kept only the addresses known 50 ms after the
// first answer, and failed.
func TestLateAAnswerJoins(t *testing.T) {
	live := startRelay(t, amttest.Behaviour{})
	srv := startServer(t,
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 3 relay.example.",
		"relay.example. 60 IN AAAA ::1",
		"relay.example. 60 IN A 127.0.0.1",
	)
	srv.with(func() { srv.delay[qkey("relay.example.", dns.TypeA)] = 200 * time.Millisecond })
	r := testResolver(srv.Addr)
	r.Port = live.Addr().Port()
	r.AttemptTimeout = 2 * time.Second
	race, err, took := dial(t, r)
	for _, a := range race.Attempts {
		t.Logf("attempt %v: %s %v", a.Candidate.Addr, a.Outcome, a.Err)
	}
	if err != nil || race.Winners[0].Relay != live.Addr() {
		t.Fatalf("A 127.0.0.1 200 ms after AAAA ::1: %v after %v; candidates %v", err, took, addrsOfCands(race.Candidates))
	}
	if len(race.Attempts) != 2 || race.Attempts[0].Candidate.Addr.Addr() != netip.IPv6Loopback() {
		t.Errorf("attempts %+v", race.Attempts)
	}
	// Lookup, too, keeps the late answer.
	res, err := lookup(t, r, rfcSource)
	if got := addrsOfCands(res.Candidates); err != nil || !slices.Equal(got, []string{"::1", "127.0.0.1"}) {
		t.Errorf("Lookup: %v, %v", got, err)
	}
}

// TestBetterCandidateTriedNext: a DNS-SD candidate arriving after a DRIAD
// attempt has started is tried next, before the lower DRIAD precedence
// already known, and the attempt started goes on. With a 2 s Connection
// Attempt Delay and the DNS-SD answer 100 ms late, the order does not
// depend on timing.
func TestBetterCandidateTriedNext(t *testing.T) {
	relays, p, err := amttest.StartSamePort("127.0.0.1", "127.0.0.2", "127.0.0.3")
	if err != nil {
		t.Skip(err)
	}
	for _, x := range relays {
		defer x.Close()
	}
	a, b, live := relays[0], relays[1], relays[2]
	a.Set(amttest.Behaviour{Drop: true})
	b.Set(amttest.Behaviour{Drop: true})
	port := itoa(int(p))
	srv := startServer(t,
		"_amt._udp.example.net. 60 IN PTR c._amt._udp.example.net.",
		"c._amt._udp.example.net. 60 IN SRV 0 0 "+port+" c.example.net.",
		"c.example.net. 60 IN A 127.0.0.3",
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 1 127.0.0.1",
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 20 0 1 127.0.0.2",
	)
	srv.with(func() { srv.delay[qkey("_amt._udp.example.net.", dns.TypePTR)] = 100 * time.Millisecond })
	r := testResolver(srv.Addr)
	r.Tiers = []Tier{TierDNSSD, TierDRIAD}
	r.DNSSDDomains = []string{"example.net"}
	r.Port = p
	r.ConnectionAttemptDelay = 2 * time.Second
	r.AttemptTimeout = 30 * time.Second
	race, err, _ := dial(t, r)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, at := range race.Attempts {
		got = append(got, at.Candidate.Addr.Addr().String()+" "+string(at.Outcome))
	}
	if want := []string{"127.0.0.1 cancelled", "127.0.0.3 connected"}; !slices.Equal(got, want) {
		t.Errorf("attempts %v, want %v", got, want)
	}
	if b.Discoveries() != 0 || live.Requests() != 1 {
		t.Error("the precedence-20 relay was tried before the DNS-SD one")
	}
	if race.Attempts[1].Started < 2*time.Second {
		t.Errorf("second attempt at %v, before the 2 s delay", race.Attempts[1].Started)
	}
}

// TestHoldDownFollowsAdvertisedRelay (issue #10): a broker advertises a
// full relay (L flag). The relay is held down (RFC 8777 §3.3.5), not the
// broker, and the next race does not send it a Request through the
// broker. The old code held the broker down, and not the relay.
func TestHoldDownFollowsAdvertisedRelay(t *testing.T) {
	relays, _, err := amttest.StartSamePort("127.0.0.1", "127.0.0.2")
	if err != nil {
		t.Skip(err)
	}
	broker, full := relays[0], relays[1]
	defer broker.Close()
	defer full.Close()
	broker.Set(amttest.Behaviour{Advertise: full.Addr().Addr()})
	full.Set(amttest.Behaviour{Limit: true})
	r := connectResolver(&socketTracker{})
	race, err := connect(t, r, relayCands(broker))
	if a := race.Attempts[0]; !errors.Is(err, ErrAllFailed) || a.Outcome != OutcomeLimit || a.Relay != full.Addr() || !a.HeldDown {
		t.Errorf("err %v; attempt %+v", err, a)
	}
	_, _, brokerHeld := r.Holds().Held(broker.Addr())
	_, _, fullHeld := r.Holds().Held(full.Addr())
	if brokerHeld || !fullHeld {
		t.Errorf("broker %v held down: %v; the full relay %v it advertised held down: %v", broker.Addr(), brokerHeld, full.Addr(), fullHeld)
	}
	// Next race: the broker is tried, its Advertisement names a relay in
	// hold-down, and no Request goes there; the next relay connects.
	requests := full.Requests()
	ok := startRelay(t, amttest.Behaviour{})
	race, err = connect(t, r, relayCands(broker, ok))
	if err != nil || race.Attempts[0].Outcome != OutcomeHeld || race.Winners[0].Relay != ok.Addr() || full.Requests() != requests {
		t.Errorf("second race: %v, attempts %+v, %d requests to the full relay", err, race.Attempts, full.Requests()-requests)
	}
}

// TestConnectNDistinctRelays (issue #10): two brokers advertise one relay;
// ConnectN(2) holds two different relays. The old code returned the same
// relay twice.
func TestConnectNDistinctRelays(t *testing.T) {
	relays, _, err := amttest.StartSamePort("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
	if err != nil {
		t.Skip(err)
	}
	for _, x := range relays {
		defer x.Close()
	}
	relays[0].Set(amttest.Behaviour{Advertise: relays[1].Addr().Addr()})
	relays[2].Set(amttest.Behaviour{Advertise: relays[1].Addr().Addr()})
	r := connectResolver(&socketTracker{})
	r.testAttemptDelay = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The relay itself is also a candidate, last.
	race, err := r.ConnectN(ctx, relayCands(relays[0], relays[2], relays[3], relays[1]), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer race.Close()
	var got []string
	for _, w := range race.Winners {
		got = append(got, w.Relay.Addr().String())
	}
	if !slices.Equal(got, []string{"127.0.0.2", "127.0.0.4"}) {
		t.Errorf("ConnectN(2) relays %v, want 127.0.0.2 and 127.0.0.4", got)
	}
	if a := race.Attempts[1]; a.Outcome != OutcomeDuplicate || len(race.Attempts) != 3 {
		t.Errorf("attempts %+v", race.Attempts)
	}
}

// TestMembershipQueryByDefault (issue #10): by default a relay connects
// only with a Membership Query without the L flag (RFC 8777 §3.2.3), so a
// full relay that advertises does not win. The old default took the
// Advertisement. AdvertOnly restores that.
func TestMembershipQueryByDefault(t *testing.T) {
	full := startRelay(t, amttest.Behaviour{Limit: true})
	ok := startRelay(t, amttest.Behaviour{})
	r := connectResolver(&socketTracker{})
	r.testAttemptDelay = time.Hour
	race, err := connect(t, r, relayCands(full, ok))
	if err != nil || race.Winners[0].Relay != ok.Addr() || race.Attempts[0].Outcome != OutcomeLimit || race.Attempts[1].Outcome != OutcomeConnected {
		t.Errorf("default Resolver: %v, attempts %+v; want the full relay passed over", err, race.Attempts)
	}
	r = connectResolver(&socketTracker{})
	r.AdvertOnly = true
	race, err = connect(t, r, relayCands(full, ok))
	if err != nil || race.Winners[0].Relay != full.Addr() || race.Attempts[0].Outcome != OutcomeAdvertised || race.Winners[0].Query != nil {
		t.Errorf("AdvertOnly: %v, attempts %+v", err, race.Attempts)
	}
}

// closedPorts returns n loopback UDP addresses where nothing listens.
func closedPorts(t testing.TB, n int) []netip.AddrPort {
	var out []netip.AddrPort
	for range n {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pc.LocalAddr().(*net.UDPAddr).AddrPort())
		pc.Close()
	}
	return out
}

// TestClosedPortsFailFast (issue #10): on connected sockets, ICMP port
// unreachable fails an attempt at once and the next one starts (RFC 8305
// §5). With the Connection Attempt Delay an hour, only failures can start
// attempts: five closed ports, then a live relay. The old unconnected
// sockets saw nothing and waited.
func TestClosedPortsFailFast(t *testing.T) {
	var cands []Candidate
	for _, a := range closedPorts(t, 5) {
		cands = append(cands, Candidate{Addr: a, Tier: TierDRIAD, Usable: true})
	}
	live := startRelay(t, amttest.Behaviour{})
	r := connectResolver(&socketTracker{})
	r.testAttemptDelay = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	race, err := r.Connect(ctx, append(cands, relayCands(live)...))
	defer race.Close()
	if err != nil {
		t.Fatalf("5 closed ports then a live relay: %v, %d attempts", err, len(race.Attempts))
	}
	for i, a := range race.Attempts[:5] {
		if a.Outcome != OutcomeError || !errors.Is(a.Err, syscall.ECONNREFUSED) || a.HeldDown {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
}

// TestTimeoutPenalty (issue #10): a Discovery timeout holds the relay down
// for 30 s, then 60 s at the next consecutive timeout, capped at
// HoldDownTime, and a success clears it. The old code held it down for 10
// minutes at once. A relay held down by a penalty is still tried when it is
// the only one.
func TestTimeoutPenalty(t *testing.T) {
	relay := startRelay(t, amttest.Behaviour{Drop: true})
	r := connectResolver(&socketTracker{})
	r.AttemptTimeout = 300 * time.Millisecond
	r.HoldDownTime = 90 * time.Second
	clock := &fakeClock{now: time.Now()}
	r.HoldDown = &HoldDown{Now: clock.Now}
	heldFor := func() time.Duration {
		until, _, held := r.Holds().Held(relay.Addr())
		if !held {
			return 0
		}
		return until.Sub(clock.now)
	}
	for i, want := range []time.Duration{30 * time.Second, 60 * time.Second, 90 * time.Second, 90 * time.Second} {
		race, err := connect(t, r, relayCands(relay))
		if !errors.Is(err, ErrAllFailed) || len(race.Attempts) != 1 || race.Attempts[0].Outcome != OutcomeTimeout {
			t.Fatalf("timeout %d: %v, %+v", i+1, err, race.Attempts)
		}
		if got := heldFor(); got != want {
			t.Errorf("after timeout %d: held down for %v, want %v", i+1, got, want)
		}
	}
	clock.Advance(91 * time.Second)
	if heldFor() != 0 {
		t.Error("still held down")
	}
	// Answering again: tried (here while not held), connects, and the
	// penalty starts over.
	relay.Set(amttest.Behaviour{})
	if _, err := connect(t, r, relayCands(relay)); err != nil {
		t.Fatal(err)
	}
	relay.Set(amttest.Behaviour{Drop: true})
	connect(t, r, relayCands(relay))
	if got := heldFor(); got != 30*time.Second {
		t.Errorf("after a success and a timeout: held down for %v, want 30 s", got)
	}
	// Held down, but the only relay: tried rather than failing.
	relay.Set(amttest.Behaviour{})
	race, err := connect(t, r, relayCands(relay))
	if err != nil {
		t.Errorf("the only relay, held down after a timeout, now answers: %v (%d attempts)", err, len(race.Attempts))
	}
	if heldFor() != 0 {
		t.Error("a success did not clear the penalty")
	}
}

// TestCancelledNotPenalised: attempts cancelled because another won are
// never penalised, even past their own timeout's start.
func TestCancelledNotPenalised(t *testing.T) {
	silent := startRelay(t, amttest.Behaviour{Drop: true})
	live := startRelay(t, amttest.Behaviour{})
	r := connectResolver(&socketTracker{})
	r.ConnectionAttemptDelay = minConnectionAttemptDelay
	race, err := connect(t, r, relayCands(silent, live))
	if err != nil || race.Attempts[0].Outcome != OutcomeCancelled || race.Attempts[0].HeldDown || r.Holds().Len() != 0 {
		t.Errorf("%v, %+v, %d held", err, race.Attempts, r.Holds().Len())
	}
}

// TestAnswerAddedWhole (found by test/e2e through Unbound, which rotates
// records): the relays of one AMTRELAY answer join the race together, so
// the first attempt is the lowest precedence whatever the records' order
// (RFC 8777 §3.1.2). The old code added them one by one, and the race
// could start the precedence-1 relay before the precedence-0 one was
// listed.
func TestAnswerAddedWhole(t *testing.T) {
	relays, p, err := amttest.StartSamePort("127.0.0.1", "127.0.0.2")
	if err != nil {
		t.Skip(err)
	}
	for _, x := range relays {
		defer x.Close()
	}
	srv := startServer(t,
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 1 0 1 127.0.0.2",
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 0 0 1 127.0.0.1",
	)
	r := testResolver(srv.Addr)
	r.Tiers = []Tier{TierDRIAD}
	r.Port = p
	r.AttemptTimeout = 30 * time.Second
	// Finding a source address is a system call in real life
	// (DefaultSourceFor); here it takes a few milliseconds, as it may on a
	// busy machine, which left the old race time to start the first
	// relay.
	r.SourceFor = func(dst netip.Addr) (Source, error) {
		time.Sleep(5 * time.Millisecond)
		return testSources(dst)
	}
	for i := range 10 {
		race, err, _ := dial(t, r)
		if err != nil {
			t.Fatal(err)
		}
		if first := race.Attempts[0].Candidate; first.Addr.Addr() != netip.MustParseAddr("127.0.0.1") {
			t.Fatalf("run %d: first attempt %v (precedence %d), want the precedence-0 relay", i, first.Addr, first.Precedence)
		}
	}
}

// TestBetterTierWaitedFor (found by test/e2e, RFC 8313 §3.5): a DRIAD
// candidate known while DNS-SD is still looking waits for it, up to the
// Resolution Delay: local relays come strictly first (RFC 8777 §3.1.2).
// A DNS-SD lookup that never ends holds DRIAD back for that delay only.
func TestBetterTierWaitedFor(t *testing.T) {
	relays, p, err := amttest.StartSamePort("127.0.0.1", "127.0.0.3")
	if err != nil {
		t.Skip(err)
	}
	for _, x := range relays {
		defer x.Close()
	}
	port := itoa(int(p))
	setup := func(t *testing.T, drop bool) *Resolver {
		srv := startServer(t,
			"_amt._udp.example.net. 60 IN PTR c._amt._udp.example.net.",
			"c._amt._udp.example.net. 60 IN SRV 0 0 "+port+" c.example.net.",
			"c.example.net. 60 IN A 127.0.0.3",
			"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 0 0 1 127.0.0.1",
		)
		srv.with(func() {
			srv.delay[qkey("_amt._udp.example.net.", dns.TypePTR)] = 30 * time.Millisecond
			if drop {
				srv.drop[qkey("_amt._udp.example.net.", dns.TypePTR)] = 1000
			}
		})
		r := testResolver(srv.Addr)
		r.Tiers = []Tier{TierDNSSD, TierDRIAD}
		r.DNSSDDomains = []string{"example.net"}
		r.Port = p
		r.AttemptTimeout = 30 * time.Second
		r.RetryInitial, r.RetryMax, r.queryAttempts = 20*time.Second, 20*time.Second, 1
		return r
	}
	t.Run("DNS-SD a little late", func(t *testing.T) {
		r := setup(t, false)
		r.resolutionDelay = 5 * time.Second // far more than the DNS-SD lookups take, even on a busy machine
		race, err, _ := dial(t, r)
		if err != nil {
			t.Fatal(err)
		}
		if first := race.Attempts[0].Candidate; first.Tier != TierDNSSD {
			t.Errorf("first attempt %v from %s, want the DNS-SD relay", first.Addr, first.Tier)
		}
	})
	t.Run("DNS-SD never answers", func(t *testing.T) {
		r := setup(t, true)
		r.resolutionDelay = 300 * time.Millisecond
		race, err, took := dial(t, r)
		if err != nil {
			t.Fatalf("%v after %v", err, took)
		}
		first := race.Attempts[0]
		if first.Candidate.Tier != TierDRIAD || first.Started < 300*time.Millisecond {
			t.Errorf("first attempt %v from %s at %v, want DRIAD after the 300 ms delay", first.Candidate.Addr, first.Candidate.Tier, first.Started)
		}
	})
}

// TestBetterInSameTierWaitedFor: DNS-SD's priority-1 instance answers its
// SRV query 30 ms after the priority-2 one; the race waits for it (RFC
// 6763 §5, RFC 2782: lower priority first), within the Resolution Delay.
func TestBetterInSameTierWaitedFor(t *testing.T) {
	relays, p, err := amttest.StartSamePort("127.0.0.1", "127.0.0.3")
	if err != nil {
		t.Skip(err)
	}
	for _, x := range relays {
		defer x.Close()
	}
	port := itoa(int(p))
	srv := startServer(t,
		"_amt._udp.example.net. 60 IN PTR one._amt._udp.example.net.",
		"_amt._udp.example.net. 60 IN PTR two._amt._udp.example.net.",
		"one._amt._udp.example.net. 60 IN SRV 1 0 "+port+" one.example.net.",
		"two._amt._udp.example.net. 60 IN SRV 2 0 "+port+" two.example.net.",
		"one.example.net. 60 IN A 127.0.0.1",
		"two.example.net. 60 IN A 127.0.0.3",
	)
	srv.with(func() { srv.delay[qkey("one._amt._udp.example.net.", dns.TypeSRV)] = 30 * time.Millisecond })
	r := testResolver(srv.Addr)
	r.Tiers = []Tier{TierDNSSD}
	r.DNSSDDomains = []string{"example.net"}
	r.Port = p
	r.AttemptTimeout = 30 * time.Second
	r.resolutionDelay = 5 * time.Second // the lookups take far less, even on a busy machine
	race, err, _ := dial(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if first := race.Attempts[0].Candidate; first.Priority != 1 {
		t.Errorf("first attempt %v, SRV priority %d; want the priority-1 instance", first.Addr, first.Priority)
	}
}
