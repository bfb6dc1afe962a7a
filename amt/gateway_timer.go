package amt

import "time"

// gwTimer is a timer of the Gateway's Clock; a timer that fires after
// being replaced or stopped does nothing.
type gwTimer struct{ t Timer }

// arm sets *p to run f under g.mu after d; a timer already there is
// stopped. g.mu is held.
func (g *Gateway) arm(p **gwTimer, d time.Duration, f func()) {
	g.stop(p)
	tok := &gwTimer{}
	*p = tok
	tok.t = g.clock().AfterFunc(d, func() {
		g.mu.Lock()
		defer g.unlock()
		if *p != tok || g.closed {
			return
		}
		*p = nil
		f()
	})
}

func (g *Gateway) stop(p **gwTimer) {
	if *p != nil {
		(*p).t.Stop()
		*p = nil
	}
}
