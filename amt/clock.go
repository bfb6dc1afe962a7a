package amt

import "time"

// Clock is the time source of a Gateway's timers: the query timer that
// refreshes membership (RFC 7450 §5.2.3.5.4), the Request retransmissions
// (§5.2.3.5.3) and the state-change report retransmissions (§5.2.1,
// RFC 3376 §5.1). A test drives them without sleeping. A nil Clock is the
// system clock. gatewayresolver.Clock is this type.
//
// AfterFunc may be called with the caller's locks held: f must run after
// AfterFunc has returned, never inside it.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f, in a goroutine of the Clock's choosing, once d
	// has passed, unless the Timer is stopped first. time.AfterFunc is
	// one.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer set with Clock.AfterFunc. *time.Timer is one.
type Timer interface {
	// Stop prevents the timer from firing; false if it had already fired
	// or been stopped.
	Stop() bool
}

// SystemClock is the Clock of the time package.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
