package gatewayresolver

import (
	"context"
	"sync"
	"time"
)

// rateLimiter allows at most n sends in any window (RFC 8777 §3.2.2 asks
// for "no more than 10 queries for any 100-millisecond period" by
// default). It counts a query when it is sent, not when it is allowed: the
// write itself runs under the limiter's lock, and its time is taken after
// the write returns, so no scheduling delay between the check and the send
// can let an eleventh query into a window. n <= 0 disables it.
type rateLimiter struct {
	n      int
	window time.Duration

	mu   sync.Mutex
	sent []time.Time // the last n send times, oldest first
}

func newRateLimiter(n int, window time.Duration) *rateLimiter {
	return &rateLimiter{n: n, window: window}
}

// send waits until one more send fits the limit, then calls write and
// records it. It returns early with ctx's error, without writing.
func (l *rateLimiter) send(ctx context.Context, write func() error) error {
	if l == nil || l.n <= 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		return write()
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		now := time.Now()
		wait := time.Duration(0)
		if len(l.sent) == l.n {
			wait = l.window - now.Sub(l.sent[0])
		}
		if wait <= 0 {
			err := write()
			t := time.Now()
			if len(l.sent) == l.n {
				copy(l.sent, l.sent[1:])
				l.sent[len(l.sent)-1] = t
			} else {
				l.sent = append(l.sent, t)
			}
			l.mu.Unlock()
			return err
		}
		l.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}
