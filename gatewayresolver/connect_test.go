package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

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

// socketTracker is a ListenPacket that binds loopback only and remembers
// every socket, to check that losers' sockets are closed.
type socketTracker struct {
	mu    sync.Mutex
	conns []*trackedConn
}

type trackedConn struct {
	net.PacketConn
	mu     sync.Mutex
	closed bool
}

func (c *trackedConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.PacketConn.Close()
}

// WriteTo refuses anything but loopback: no test packet may leave the
// machine (the anycast and documentation addresses are not on it).
func (c *trackedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || !ua.AddrPort().Addr().Unmap().IsLoopback() {
		panic(fmt.Sprintf("test tried to send to %v", addr))
	}
	return c.PacketConn.WriteTo(b, addr)
}

func (c *trackedConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (s *socketTracker) ListenPacket(ctx context.Context, network, _ string) (net.PacketConn, error) {
	if network != "udp4" {
		return nil, errors.New("test sockets are IPv4 loopback only")
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, network, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{PacketConn: pc}
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
	return &Resolver{NoAnycast: true, ListenPacket: tr.ListenPacket, SourceFor: testSources, AttemptTimeout: 30 * time.Second}
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
			if gap := a.Started - race.Attempts[i-1].Started; gap < DefaultConnectionAttemptDelay {
				t.Errorf("attempt %d started %v after attempt %d, want at least %v", i+1, gap, i, DefaultConnectionAttemptDelay)
			}
		}
		wantOutcome := OutcomeCancelled
		if i == 3 {
			wantOutcome = OutcomeAdvertised
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
// by Lookup's order and by Connect.
func TestConnectLimitHoldDown(t *testing.T) {
	full := startRelay(t, amttest.Behaviour{Limit: true})
	ok := startRelay(t, amttest.Behaviour{Delay: 20 * time.Millisecond})
	tr := &socketTracker{}
	r := connectResolver(tr)
	r.Confirm = true
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
	if !held || until.Sub(clock.now) != DefaultHoldDown {
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
	clock.Advance(DefaultHoldDown)
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
	if race, err := connect(t, r, c); err != nil || relay.Discoveries() != 1 || relay.Requests() != 1 || race.Attempts[0].Outcome != OutcomeAdvertised {
		t.Errorf("D=0: %v, %d discoveries, %d requests", err, relay.Discoveries(), relay.Requests())
	}
	// Without DirectRequest the D-bit changes nothing.
	r2 := connectResolver(&socketTracker{})
	c[0].DiscoveryOptional = true
	if race, err := connect(t, r2, c); err != nil || relay.Discoveries() != 2 || race.Attempts[0].Outcome != OutcomeAdvertised {
		t.Errorf("no DirectRequest: %v, %d discoveries", err, relay.Discoveries())
	}
}

// TestConnectForgedAdvertisements: Advertisements with the wrong nonce,
// from the wrong port, or of the wrong length are ignored; the genuine one
// wins and the relay address is never taken from a forgery.
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
	race, err := connect(t, r, relayCands(relay))
	if err != nil {
		t.Fatal(err)
	}
	if a := race.Attempts[0]; a.Ignored != 5 || race.Winners[0].Relay != relay.Addr() {
		t.Errorf("ignored %d, relay %v", a.Ignored, race.Winners[0].Relay)
	}

	// Only forgeries from another port: the attempt times out. Each
	// Discovery (and retransmission, after 1 s) draws one forgery; the
	// timeout leaves a slow machine time to deliver the first.
	relay.Set(amttest.Behaviour{Drop: true, DecoyFrom: forger, Decoys: func(reply []byte) [][]byte { return [][]byte{reply} }})
	r.AttemptTimeout = 2 * time.Second
	race, err = connect(t, r, relayCands(relay))
	if !errors.Is(err, ErrAllFailed) || race.Attempts[0].Outcome != OutcomeTimeout || race.Attempts[0].Ignored < 1 || !race.Attempts[0].HeldDown {
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

// TestConnectAllFail: silent relays time out, are held down, and the
// error says so; the attempts still start the attempt delay apart, not
// one timeout after another: eight relays with a 1 s timeout would take
// at least 8 s in turn, and take about 1 s.
func TestConnectAllFail(t *testing.T) {
	var relays []*amttest.Relay
	for range 8 {
		relays = append(relays, startRelay(t, amttest.Behaviour{Drop: true}))
	}
	r := connectResolver(&socketTracker{})
	r.ConnectionAttemptDelay = MinConnectionAttemptDelay
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
		if i > 0 && at.Started-race.Attempts[i-1].Started < MinConnectionAttemptDelay {
			t.Errorf("attempt %d started %v after the one before", i+1, at.Started-race.Attempts[i-1].Started)
		}
		if at.Outcome != OutcomeTimeout || !at.HeldDown || at.Ended-at.Started < r.AttemptTimeout {
			t.Errorf("%+v", at)
		}
	}
	if r.Holds().Len() != len(relays) {
		t.Errorf("%d held down", r.Holds().Len())
	}
	if _, err := connect(t, r, relayCands(relays...)); !errors.Is(err, ErrNoCandidates) {
		t.Errorf("all held down: err %v", err)
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
	r.Confirm = true
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
// lead to loopback relays; the dead DNS-SD relay is passed over after one
// attempt delay, while its attempt still runs (it would time out after
// 30 s), and the live one connects with a Membership Query.
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
	r := testResolver(srv.Addr)
	r.NoDNSSD = false
	r.DNSSDDomains = []string{"example.net"}
	r.Confirm = true
	r.Port = live.Addr().Port()
	r.ListenPacket = (&socketTracker{}).ListenPacket
	r.AttemptTimeout = 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	race, err := r.Dial(ctx, rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	defer race.Close()
	if got := addrsOfCands(race.Lookup.Candidates); len(got) != 2 { // the DRIAD copy of live is a duplicate
		t.Errorf("candidates %v", got)
	}
	w := race.Winners[0]
	if w.Candidate.Tier != TierDNSSD || w.Candidate.Addr != live.Addr() || w.Query == nil || race.Attempts[0].Candidate.Addr != dead.Addr() {
		t.Errorf("winner %+v after %+v", w, race.Attempts)
	}
	if s := race.Attempts[1].Started; s < DefaultConnectionAttemptDelay || s > 10*time.Second || race.Attempts[0].Outcome != OutcomeCancelled {
		t.Errorf("second attempt started at %v; first %+v", s, race.Attempts[0])
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
