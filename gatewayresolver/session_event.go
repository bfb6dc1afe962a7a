package gatewayresolver

import (
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// State is where one of a Session's relays stands (see Session.Status).
type State uint8

// Session states. The README's Session section draws how they change.
const (
	// StateIdle: Run has not started.
	StateIdle State = iota
	// StateDiscovering: no relay; a discovery round is running or about
	// to start.
	StateDiscovering
	// StateWaiting: no relay; the last round failed and the next starts
	// at Tunnel.Retry.
	StateWaiting
	// StateConnected: a relay is held; no traffic has come from it yet.
	StateConnected
	// StateReceiving: a relay is held and traffic has come from it.
	StateReceiving
	// StateStopped: Run has returned.
	StateStopped
)

var stateNames = [...]string{"idle", "discovering", "waiting", "connected", "receiving", "stopped"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Reason is why a Session did something: the restart events of RFC 8777
// §3.3.2 and the Session's own timers.
type Reason uint8

// Reasons.
const (
	// ReasonStart: Run started: the gateway reports a subscription to a
	// source (RFC 8777 §3.3.2, events 2 and 6).
	ReasonStart Reason = iota
	// ReasonNoTraffic: no traffic came within the traffic timeout (RFC
	// 8777 §3.3.4.1, §3.3.2 event 9).
	ReasonNoTraffic
	// ReasonLoss: the caller reported loss or congestion (RFC 8777
	// §3.3.4.2, §3.3.2 event 8).
	ReasonLoss
	// ReasonLimit: a Membership Query had the L flag (RFC 8777 §3.3.5,
	// §3.3.2 event 5).
	ReasonLimit
	// ReasonNoResponse: a Request got no response (RFC 8777 §3.3.2,
	// event 4).
	ReasonNoResponse
	// ReasonNetworkChange: the caller reported a network change (RFC 8777
	// §3.3.2, event 7).
	ReasonNetworkChange
	// ReasonRecordsChanged: the caller reported that the source's DNS
	// records changed.
	ReasonRecordsChanged
	// ReasonLongTerm: the long-term timer fired and the records the relay
	// came from had expired (RFC 8777 §3.3.4.3).
	ReasonLongTerm
	// ReasonRetry: the last discovery round failed.
	ReasonRetry
	// ReasonStopped: Run is returning.
	ReasonStopped
)

var reasonNames = [...]string{
	ReasonStart:          "new subscription (RFC 8777 §3.3.2, events 2 and 6)",
	ReasonNoTraffic:      "no traffic (RFC 8777 §3.3.4.1)",
	ReasonLoss:           "loss or congestion (RFC 8777 §3.3.4.2)",
	ReasonLimit:          "L flag set (RFC 8777 §3.3.5)",
	ReasonNoResponse:     "no response to a Request (RFC 8777 §3.3.2, event 4)",
	ReasonNetworkChange:  "network change (RFC 8777 §3.3.2, event 7)",
	ReasonRecordsChanged: "the source's DNS records changed",
	ReasonLongTerm:       "long-term timer (RFC 8777 §3.3.4.3)",
	ReasonRetry:          "retry after a failed discovery",
	ReasonStopped:        "session stopped",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	// EventDiscovering: a discovery round starts. Relay is the relay kept
	// meanwhile, when the round looks for its replacement; zero when the
	// Session has no relay to keep.
	EventDiscovering EventKind = iota
	// EventConnected: Relay is connected; Winner holds its socket, which
	// is the caller's from now on. From is the relay it replaces, if any
	// (a failover; equal to Relay when the Session reconnects to it).
	// Until is when the Session declares an absence of traffic if none
	// has come by then (RFC 8777 §3.3.4.1).
	EventConnected
	// EventStayed: a round found that Relay is still the one to use; the
	// caller's tunnel goes on.
	EventStayed
	// EventTraffic: the first traffic from Relay since it connected.
	EventTraffic
	// EventHeldDown: Relay is held down until Until.
	EventHeldDown
	// EventScheduled: a restart for Relay is scheduled at Until (loss,
	// RFC 8777 §3.3.4.2), or, with ReasonLongTerm, the long-term timer
	// was set again to Until because Relay's records had not expired.
	EventScheduled
	// EventDropped: the Session no longer uses Relay: the caller tears
	// its tunnel down (a Teardown, RFC 7450 §5.2.3.4.4) and closes the
	// socket.
	EventDropped
	// EventFailed: a round failed (Err). With Relay zero, the Session has
	// no relay for one of its slots and retries at Until; otherwise it
	// keeps Relay, and retries at Until if Until is set.
	EventFailed
)

var kindNames = [...]string{"discovering", "connected", "stayed", "traffic", "held-down", "scheduled", "dropped", "failed"}

func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Event is a change a Session reports on its Events channel.
type Event struct {
	Kind EventKind
	// Time is when it happened, on the Session's Clock.
	Time time.Time
	// Relay is the relay concerned: the address its Relay Advertisement
	// gave (Winner.Relay).
	Relay netip.AddrPort
	// From is, for EventConnected, the relay the new one replaces.
	From   netip.AddrPort
	Reason Reason
	// Until is the time the event sets: see each EventKind.
	Until time.Time
	// Winner is the connection, for EventConnected.
	Winner *Winner
	// Err is what failed, for EventFailed.
	Err error
}

// String describes the event on one line, for a log.
func (e Event) String() string {
	at := func(t time.Time) string { return t.Format("15:04:05") }
	switch e.Kind {
	case EventDiscovering:
		if e.Relay.IsValid() {
			return fmt.Sprintf("looking for a relay to replace %v, kept meanwhile: %s", e.Relay, e.Reason)
		}
		return "discovering relays: " + e.Reason.String()
	case EventConnected:
		switch {
		case !e.From.IsValid():
			return fmt.Sprintf("connected to %v: %s", e.Relay, e.Reason)
		case e.From == e.Relay:
			return fmt.Sprintf("reconnected to %v: %s", e.Relay, e.Reason)
		}
		return fmt.Sprintf("failing over from %v to %v: %s", e.From, e.Relay, e.Reason)
	case EventStayed:
		return fmt.Sprintf("staying on %v: %s", e.Relay, e.Reason)
	case EventTraffic:
		return fmt.Sprintf("traffic from %v", e.Relay)
	case EventHeldDown:
		return fmt.Sprintf("holding down %v until %s: %s", e.Relay, at(e.Until), e.Reason)
	case EventScheduled:
		if e.Reason == ReasonLongTerm {
			return fmt.Sprintf("records of %v not expired: next long-term check at %s", e.Relay, at(e.Until))
		}
		return fmt.Sprintf("restart from %v scheduled at %s: %s", e.Relay, at(e.Until), e.Reason)
	case EventDropped:
		return fmt.Sprintf("dropped %v: %s", e.Relay, e.Reason)
	case EventFailed:
		msg := "no relay"
		if e.Relay.IsValid() {
			msg = fmt.Sprintf("no relay to replace %v, kept", e.Relay)
		}
		if e.Err != nil {
			msg += ": " + oneLine(e.Err)
		}
		if !e.Until.IsZero() {
			msg += "; retrying at " + at(e.Until)
		}
		return msg
	}
	return e.Kind.String()
}

// eventQueue hands events to the Events channel in order, without ever
// blocking the Session: events wait in a slice until the caller takes
// them. They are few: a handful per restart.
type eventQueue struct {
	ch   chan Event
	wake chan struct{}

	mu     sync.Mutex
	q      []Event
	closed bool
}

func newEventQueue() *eventQueue {
	return &eventQueue{ch: make(chan Event), wake: make(chan struct{}, 1)}
}

func (e *eventQueue) push(ev Event) {
	e.mu.Lock()
	e.q = append(e.q, ev)
	e.mu.Unlock()
	e.poke()
}

// close ends the channel once the events queued have been taken.
func (e *eventQueue) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.poke()
}

func (e *eventQueue) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run delivers the events, in order, until close.
func (e *eventQueue) run() {
	for {
		e.mu.Lock()
		if len(e.q) == 0 {
			closed := e.closed
			e.mu.Unlock()
			if closed {
				close(e.ch)
				return
			}
			<-e.wake
			continue
		}
		ev := e.q[0]
		e.q[0] = Event{}
		e.q = e.q[1:]
		e.mu.Unlock()
		e.ch <- ev
	}
}
