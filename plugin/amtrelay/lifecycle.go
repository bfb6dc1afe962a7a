package amtrelay

import (
	"fmt"
	"sync"

	"github.com/coredns/caddy"
)

// The background workers of a configuration start only once the whole
// caddy instance that holds it has started, and stop on every path that
// discards it. caddy runs every plugin's OnStartup before the servers
// listen; when a later step fails (another block's check, a port in use),
// the new instance is thrown away without its OnShutdown, so workers
// started in OnStartup would run on, writing shared metrics. Instead:
//
//   - setup records each handler in its instance's Storage;
//   - caddy's InstanceStartupEvent, emitted only when an instance has
//     started (first start and every successful reload), starts the
//     workers of that instance's handlers;
//   - OnShutdown stops them (reload and final shutdown); an instance that
//     never started never had them running.
//
// This is how CoreDNS's reload plugin keeps per-instance state too.

// handlersKey is the instance Storage key of the instance's handlers.
type handlersKey struct{}

// instanceHandlers are the amtrelay handlers of one caddy instance.
type instanceHandlers struct {
	mu   sync.Mutex
	list []*AMTRelay
}

// remember records a in the instance that c sets up.
func remember(c *caddy.Controller, a *AMTRelay) {
	h, ok := c.Get(handlersKey{}).(*instanceHandlers)
	if !ok {
		h = &instanceHandlers{}
		c.Set(handlersKey{}, h)
		c.OnRestartFailed(countFailedReload)
		// A reload of this instance runs boosted (reloadboost.go).
		c.OnRestart(boost.begin)
		c.OnRestartFailed(boost.end)
		c.OnShutdown(boost.end)
	}
	h.mu.Lock()
	h.list = append(h.list, a)
	h.mu.Unlock()
	registerStartupHook()
}

// startupHook starts the workers of an instance that has started.
func startupHook(event caddy.EventName, info any) error {
	if event != caddy.InstanceStartupEvent {
		return nil
	}
	inst, ok := info.(*caddy.Instance)
	if !ok {
		return nil
	}
	inst.StorageMu.RLock()
	h, _ := inst.Storage[handlersKey{}].(*instanceHandlers)
	inst.StorageMu.RUnlock()
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.list {
		if err := a.startup(); err != nil {
			return fmt.Errorf("%s: %w", pluginName, err)
		}
	}
	return nil
}

// startupHookName names the hook among caddy's event hooks.
const startupHookName = "amtrelay-workers"

// registerStartupHook registers startupHook unless it is registered. It
// runs on every setup, not once per process: caddy's SIGUSR1 reload purges
// every event hook before it sets up the new instance (and restores them
// only when the reload fails), so a hook registered once would be gone
// after the first SIGUSR1. caddy offers no way to ask whether a hook is
// registered, and RegisterEventHook panics on a name it has: this is the
// one place that recovers from that panic.
func registerStartupHook() {
	defer func() { _ = recover() }()
	caddy.RegisterEventHook(startupHookName, startupHook)
}

// countFailedReload counts a reload that failed while this instance kept
// serving. It is registered once per instance.
func countFailedReload() error {
	reloads.WithLabelValues("failed").Inc()
	return nil
}
