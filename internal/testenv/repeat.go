package testenv

import (
	"sync"
	"testing"
	"time"
)

// Repeat calls f every interval, in a goroutine of its own, until f
// returns false or the test ends; the test's cleanup waits for it to stop.
// Tests use it to keep a stream or beacon flowing.
func Repeat(t testing.TB, interval time.Duration, f func() bool) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if !f() {
					return
				}
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
}
