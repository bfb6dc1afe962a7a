package amtrelay

import (
	"context"
	"sync"
	"time"
)

// worker is a background task of one server block: the GeoIP watcher
// (geoDB), the health prober (healthChecker) and the load poller
// (loadPoller). Each calls the selector's changed, and only that, when
// what it watches changes answers.
type worker interface {
	// run works until ctx ends, and returns only when all its goroutines
	// have.
	run(ctx context.Context)
	// ready reports whether its first round has finished, so that answers
	// use what it learns.
	ready() bool
}

// workers starts, stops and asks after the workers of a server block
// together.
type workers struct {
	list   []worker
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (ws *workers) add(w worker) { ws.list = append(ws.list, w) }

// start runs every worker in a goroutine of its own. Once started, it
// does nothing more until stop.
func (ws *workers) start() {
	if ws.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	ws.cancel = cancel
	for _, w := range ws.list {
		ws.wg.Add(1)
		go func() {
			defer ws.wg.Done()
			w.run(ctx)
		}()
	}
}

// stop ends every worker and waits for them. It may be called more than
// once, and before start.
func (ws *workers) stop() {
	if ws.cancel != nil {
		ws.cancel()
		ws.wg.Wait()
		ws.cancel = nil
	}
}

// ready reports whether every worker is.
func (ws *workers) ready() bool {
	for _, w := range ws.list {
		if !w.ready() {
			return false
		}
	}
	return true
}

// every calls f every interval until ctx ends: the loop of the workers
// that check something on a fixed period.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
