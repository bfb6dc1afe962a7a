package amtrelay

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// defaultLoadMaxAge is how old a load reading may be before it counts as
// unknown.
const defaultLoadMaxAge = time.Minute

// loadSource reads relay loads from somewhere: a Prometheus server, or
// each relay's metrics endpoint.
type loadSource interface {
	// String names the source in logs and metrics: "prometheus" or
	// "scrape".
	String() string
	every() time.Duration
	// read returns the readings it got, and an error for a read that
	// failed as a whole. Bad single readings are counted and skipped by
	// the source itself, or by apply.
	read(ctx context.Context, now time.Time) ([]reading, error)
}

// reading is one relay's load at a time.
type reading struct {
	relay *relay
	value float64
	at    time.Time
}

// loadPoller runs the load sources of a server block and keeps relay
// loads and the stale-load gauges current; it tells the selector when a
// load changes.
type loadPoller struct {
	sources []loadSource
	relays  []*relay
	maxAge  time.Duration
	sel     *selector

	pending atomic.Int64 // sources whose first read has not finished
	// logged remembers the last problem logged per source, so a lasting
	// problem is logged once.
	mu     sync.Mutex
	logged map[string]string
}

// run polls every source, each on its own timer, until ctx ends.
func (p *loadPoller) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, src := range p.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.pollLoop(ctx, src)
		}()
	}
	wg.Wait()
}

func (p *loadPoller) ready() bool { return p.pending.Load() == 0 }

// pollLoop reads src now and then every interval until ctx ends, just
// after each aligned time (promquery.go), so that the instances of a
// fleet read alike and at about the same moment. A slow source delays
// only its own next read: answers read the last values.
func (p *loadPoller) pollLoop(ctx context.Context, src loadSource) {
	first := true
	for {
		now := time.Now()
		readings, err := src.read(ctx, now)
		if ctx.Err() != nil {
			if first {
				p.pending.Add(-1)
			}
			return
		}
		if err != nil {
			p.problem(src.String(), "read", "load from %s failed: %v; keeping the last readings until they are older than %s", src, err, p.maxAge)
		} else {
			p.problem(src.String(), "read", "")
		}
		p.apply(src.String(), readings)
		p.markStale(time.Now())
		if first {
			first = false
			p.pending.Add(-1)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(nextAligned(time.Now(), src.every())):
		}
	}
}

// apply stores valid readings. NaN, infinite and negative values are
// counted and ignored: they are never taken as a load, least of all as 0.
func (p *loadPoller) apply(source string, readings []reading) {
	changed := false
	for _, rd := range readings {
		if math.IsNaN(rd.value) || math.IsInf(rd.value, 0) || rd.value < 0 {
			loadErrors.WithLabelValues(source, "invalid_value").Inc()
			p.problem(source, "value/"+rd.relay.name, "load from %s for relay %s is %v: ignored", source, rd.relay.name, rd.value)
			continue
		}
		old, oldAt, static, ok := rd.relay.loadReading()
		if ok && !static && oldAt.After(rd.at) {
			continue // an older reading than the one in use
		}
		rd.relay.setLoad(rd.value, rd.at, false)
		relayLoad.WithLabelValues(rd.relay.server, rd.relay.name).Set(rd.value)
		if !ok || old != rd.value || static {
			changed = true
		}
	}
	if changed {
		p.sel.changed()
	}
}

// markStale updates the stale-load gauges. (Least-load notices aged
// readings itself: its order is rebuilt at least every loadRankTTL while
// live readings can age.)
func (p *loadPoller) markStale(now time.Time) {
	for _, r := range p.relays {
		v := 0.0
		if math.IsNaN(r.utilisation(now, p.maxAge)) {
			v = 1
		}
		loadStale.WithLabelValues(r.server, r.name).Set(v)
	}
}

// problem logs msg for key once, until it changes; an empty msg clears it.
func (p *loadPoller) problem(source, key, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := source + "/" + key
	if p.logged == nil {
		p.logged = map[string]string{}
	}
	if format == "" {
		delete(p.logged, k)
		return
	}
	msg := fmt.Sprintf(format, args...)
	if p.logged[k] == msg {
		return
	}
	p.logged[k] = msg
	log.Warning(msg)
}
