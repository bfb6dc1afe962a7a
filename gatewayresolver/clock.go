package gatewayresolver

import "github.com/amtrelay/amtrelay/amt"

// Clock is the time source of a Session. Every timer a Session sets (the
// traffic timeout of RFC 8777 §3.3.4.1, the restart spread of §3.3.4.2,
// the long-term timer of §3.3.4.3, the retry after a failed discovery)
// runs on it, so that a test can drive them without sleeping. A nil Clock
// is the system clock. It is amt.Clock, so that a Subscription's tunnel
// (its refresh and retransmission timers) runs on the same clock.
//
// A Session calls AfterFunc while holding its own lock: f must run after
// AfterFunc has returned, never inside it.
type Clock = amt.Clock

// Timer is a timer set with Clock.AfterFunc. *time.Timer is one.
type Timer = amt.Timer

// systemClock is the Clock of a Session whose Clock is nil.
type systemClock = amt.SystemClock
