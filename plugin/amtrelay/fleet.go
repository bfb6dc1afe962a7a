package amtrelay

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// Defaults of `health { fleet ... }`.
const (
	defaultFleetTimeout = time.Second
	defaultFleetQuorum  = 0.5
	// defaultFleetMaxAgeIntervals times the fleet interval is the default
	// max-age.
	defaultFleetMaxAgeIntervals = 3
)

// fleetConfig is `fleet URL [QUERY] [{ ... }]` in the health block: where
// the fleet's shared view of relay health is read.
type fleetConfig struct {
	url string
	// query is the PromQL query; "" is defaultFleetQuery for the block's
	// server label.
	query    string
	interval time.Duration
	timeout  time.Duration
	quorum   float64
	maxAge   time.Duration
}

// defaultFleetQuery selects every instance's own probe verdicts, the
// relay_up gauge, of the server block with this server label: the
// instances of a fleet run the same Corefile, so their server labels
// agree, and other server blocks or fleets that the same Prometheus
// scrapes stay out.
func defaultFleetQuery(server string) string {
	return fmt.Sprintf("coredns_amtrelay_relay_up{server=%q}", server)
}

// fleetHealth reads the fleet's view of relay health from Prometheus: one
// series per instance and relay, each an instance's own probe verdict (1
// up, 0 down), as every instance exports it (relay_up). A relay is up
// when at least the quorum share of the instances that report it, with a
// sample no older than max-age, see it up. A pre-aggregated query (one
// series per relay, such as avg by (relay) (...)) works too: its value is
// the share.
//
// The gauge each instance exports stays its own probe result, never the
// fleet's verdict, so the fleet's view never feeds on itself.
type fleetHealth struct {
	cfg      fleetConfig
	api      promv1.API
	relays   relayIndex
	onChange func()

	// view is what decides, published after each poll.
	view atomic.Pointer[fleetView]
	// done is set once the first poll has finished.
	done atomic.Bool

	// Kept by the poll goroutine only:
	last    []sample // the last good result
	lastErr error    // the last poll's error
	source  string   // "fleet" or "local", as last logged
}

// fleetView is the fleet's verdicts at one aligned time.
type fleetView struct {
	at     time.Time
	relays map[*relay]fleetVerdict
	// local says why the instance's own probes decide, when relays is
	// empty: "unreachable", "stale" or "empty", and details.
	local, detail string
}

// fleetVerdict is what the fleet says of one relay.
type fleetVerdict struct {
	up        bool
	share     float64 // of the reporting instances, seeing it up
	instances int     // series with a fresh sample
}

func newFleetHealth(cfg fleetConfig, relays []*relay) (*fleetHealth, error) {
	client, err := promapi.NewClient(promapi.Config{Address: cfg.url})
	if err != nil {
		return nil, err
	}
	return &fleetHealth{cfg: cfg, api: promv1.NewAPI(client), relays: newRelayIndex(relays)}, nil
}

// server is the server label of the block, known once it started.
func (f *fleetHealth) server() string {
	for _, r := range f.relays {
		return r.server
	}
	return ""
}

// run polls now, then just after every aligned time, until ctx ends.
func (f *fleetHealth) run(ctx context.Context) {
	query := f.cfg.query
	if query == "" {
		query = defaultFleetQuery(f.server())
	}
	for {
		f.poll(ctx, query, time.Now())
		if ctx.Err() != nil {
			f.done.Store(true)
			return
		}
		f.done.Store(true)
		select {
		case <-ctx.Done():
			return
		case <-time.After(nextAligned(time.Now(), f.cfg.interval)):
		}
	}
}

// poll reads the fleet's view at the aligned time of now and publishes
// the verdicts. A failed read keeps the last good result, whose samples
// age until they are older than max-age.
func (f *fleetHealth) poll(ctx context.Context, query string, now time.Time) {
	at := alignedTime(now, f.cfg.interval)
	qctx, cancel := context.WithTimeout(ctx, f.cfg.timeout)
	samples, err := stampedQuery(qctx, f.api, f.cfg.url, query, at)
	cancel()
	if ctx.Err() != nil {
		return
	}
	f.lastErr = err
	if err == nil {
		f.last = samples
	}
	f.publish(judgeFleet(f.last, f.lastErr, at, f.cfg, f.relays))
}

// publish makes v the view that decides, logs and counts a change of
// source, and tells the health checker.
func (f *fleetHealth) publish(v *fleetView) {
	f.view.Store(v)
	server := f.server()
	source := "fleet"
	if len(v.relays) == 0 {
		source = "local"
	}
	healthSource.WithLabelValues(server, source).Set(1)
	healthSource.WithLabelValues(server, other(source)).Set(0)
	if source != f.source {
		if source == "local" {
			fleetFallbacks.WithLabelValues(server, v.local).Inc()
			log.Warningf("health: the fleet view from %s is %s (%s): each relay's own probes decide until it is back", f.cfg.url, v.local, v.detail)
		} else {
			log.Infof("health: the fleet view from %s decides, for %d relay(s) (quorum %g)", f.cfg.url, len(v.relays), f.cfg.quorum)
		}
		f.source = source
	}
	if f.onChange != nil {
		f.onChange()
	}
}

func other(source string) string {
	if source == "fleet" {
		return "local"
	}
	return "fleet"
}

// judgeFleet computes the verdicts at the aligned time at from the last
// good result samples (and the last poll's error). A series counts when
// its relay label names a relay of the block, its sample is no older than
// max-age at time at, and its value is a share from 0 to 1. Time at, not
// the clock, is the reference, so every instance that reads the same
// result judges it alike.
func judgeFleet(samples []sample, lastErr error, at time.Time, cfg fleetConfig, relays relayIndex) *fleetView {
	type tally struct {
		sum float64
		n   int
	}
	tallies := map[*relay]*tally{}
	stale, known := 0, 0
	var newest time.Time
	for _, s := range samples {
		r := relays[string(s.metric["relay"])]
		if r == nil || math.IsNaN(s.value) || s.value < 0 || s.value > 1 {
			continue
		}
		known++
		if s.at.After(newest) {
			newest = s.at
		}
		if at.Sub(s.at) > cfg.maxAge {
			stale++
			continue
		}
		t := tallies[r]
		if t == nil {
			t = &tally{}
			tallies[r] = t
		}
		t.sum += s.value
		t.n++
	}
	v := &fleetView{at: at, relays: map[*relay]fleetVerdict{}}
	for r, t := range tallies {
		share := t.sum / float64(t.n)
		// A share just under the quorum from float rounding (2/3 of 0.6666…) counts as the quorum.
		v.relays[r] = fleetVerdict{up: share >= cfg.quorum-1e-9, share: share, instances: t.n}
	}
	switch {
	case len(v.relays) > 0:
		if lastErr != nil {
			v.detail = "last read failed: " + lastErr.Error()
		}
	case lastErr != nil && known == 0:
		v.local, v.detail = "unreachable", lastErr.Error()
		if errors.Is(lastErr, errNotVector) {
			v.local = "bad_response"
		}
	case stale > 0:
		v.local, v.detail = "stale", fmt.Sprintf("newest sample %s old at %s, max-age %s", at.Sub(newest), at.Format(time.RFC3339), cfg.maxAge)
		if lastErr != nil {
			v.detail += "; last read failed: " + lastErr.Error()
		}
	default:
		v.local, v.detail = "empty", "no series names a relay of this server block"
	}
	return v
}

// verdict is the fleet's verdict on r, if the current view has one.
func (f *fleetHealth) verdict(r *relay) (fleetVerdict, bool) {
	v := f.view.Load()
	if v == nil {
		return fleetVerdict{}, false
	}
	fv, ok := v.relays[r]
	return fv, ok
}

// describe says, for explain, what the current view is.
func (f *fleetHealth) describe() string {
	v := f.view.Load()
	switch {
	case v == nil:
		return "fleet view not read yet"
	case len(v.relays) == 0:
		return fmt.Sprintf("fleet view %s (%s): own probes decide", v.local, v.detail)
	}
	s := fmt.Sprintf("fleet view at %s, quorum %g", v.at.UTC().Format(time.RFC3339), f.cfg.quorum)
	if v.detail != "" {
		s += " (" + v.detail + ")"
	}
	return s
}

// String says, for explain and logs, how the fleet sees a relay.
func (fv fleetVerdict) String() string {
	state := "up"
	if !fv.up {
		state = "down"
	}
	return fmt.Sprintf("%s by the fleet: %.2f of %d instance(s) see it up", state, fv.share, fv.instances)
}
