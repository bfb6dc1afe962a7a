package gatewayresolver

import "time"

// Clock is the time source of a Session. Every timer a Session sets (the
// traffic timeout of RFC 8777 §3.3.4.1, the restart spread of §3.3.4.2,
// the long-term timer of §3.3.4.3, the retry after a failed discovery)
// runs on it, so that a test can drive them without sleeping. A nil Clock
// is the system clock.
//
// A Session calls AfterFunc while holding its own lock: f must run after
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

// systemClock is the Clock of a Session whose Clock is nil.
type systemClock struct{}

func (systemClock) Now() time.Time                            { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
