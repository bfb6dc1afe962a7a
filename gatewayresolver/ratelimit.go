package gatewayresolver

import (
	"context"
	"sync"
	"time"
)

// rateLimiter allows at most n events in any window: a sliding log of the
// last n start times (RFC 8777 §3.2.2 asks for "no more than 10 queries for
// any 100-millisecond period" by default). n <= 0 disables it.
type rateLimiter struct {
	n      int
	window time.Duration

	mu   sync.Mutex
	sent []time.Time // the last n send times, oldest first
}

func newRateLimiter(n int, window time.Duration) *rateLimiter {
	return &rateLimiter{n: n, window: window}
}

// Wait blocks until one more event fits the limit, and records it. It
// returns early with ctx's error.
func (l *rateLimiter) Wait(ctx context.Context) error {
	if l == nil || l.n <= 0 {
		return ctx.Err()
	}
	for {
		l.mu.Lock()
		now := time.Now()
		if len(l.sent) < l.n {
			l.sent = append(l.sent, now)
			l.mu.Unlock()
			return ctx.Err()
		}
		wait := l.window - now.Sub(l.sent[0])
		if wait <= 0 {
			copy(l.sent, l.sent[1:])
			l.sent[len(l.sent)-1] = now
			l.mu.Unlock()
			return ctx.Err()
		}
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
