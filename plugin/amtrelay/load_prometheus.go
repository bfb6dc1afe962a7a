package amtrelay

import (
	"context"
	"fmt"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Defaults of load sources.
const (
	defaultLoadInterval = 15 * time.Second
	defaultLoadTimeout  = 2 * time.Second
	defaultRelayLabel   = "relay"
)

// promSource reads loads from a Prometheus server with an instant PromQL
// query over its HTTP API. Each series of the result is one relay's load,
// named by a label (default "relay") whose value is the relay's Corefile
// name or address. So the load that the operator's monitoring gathers
// reaches every AMT DNS instance behind the anycast address alike.
type promSource struct {
	api      promv1.API
	address  string
	query    string
	label    model.LabelName
	interval time.Duration
	timeout  time.Duration
	relays   relayIndex
	poller   *loadPoller
}

func newPromSource(address, query string) (*promSource, error) {
	client, err := promapi.NewClient(promapi.Config{Address: address})
	if err != nil {
		return nil, err
	}
	return &promSource{api: promv1.NewAPI(client), address: address, query: query, label: defaultRelayLabel,
		interval: defaultLoadInterval, timeout: defaultLoadTimeout}, nil
}

func (s *promSource) String() string       { return "prometheus" }
func (s *promSource) every() time.Duration { return s.interval }

// read runs the query, and timestamp(query) to learn when each value was
// scraped: Prometheus stamps instant results with the evaluation time, and
// keeps returning a series for minutes after its exporter went away.
func (s *promSource) read(ctx context.Context, now time.Time) ([]reading, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	values, err := s.instant(ctx, s.query, now)
	if err != nil {
		loadErrors.WithLabelValues("prometheus", "unreachable").Inc()
		return nil, err
	}
	stamps, err := s.instant(ctx, "timestamp("+s.query+")", now)
	if err != nil {
		stamps = nil // keep the evaluation times
	}
	at := map[model.Fingerprint]time.Time{}
	for _, smp := range stamps {
		secs := float64(smp.Value)
		at[smp.Metric.Fingerprint()] = time.Unix(0, int64(secs*1e9))
	}
	var out []reading
	for _, smp := range values {
		name := string(smp.Metric[s.label])
		r := s.relays[name]
		if r == nil {
			loadErrors.WithLabelValues("prometheus", "unknown_relay").Inc()
			s.poller.problem("prometheus", "relay/"+name, "Prometheus result %s names no relay of this server block in label %q: ignored", smp.Metric, s.label)
			continue
		}
		t := smp.Timestamp.Time()
		if scraped, ok := at[smp.Metric.Fingerprint()]; ok {
			t = scraped
		}
		out = append(out, reading{relay: r, value: float64(smp.Value), at: t})
	}
	return out, nil
}

// instant runs one instant query and wants a vector back.
func (s *promSource) instant(ctx context.Context, query string, now time.Time) (model.Vector, error) {
	v, _, err := s.api.Query(ctx, query, now)
	if err != nil {
		return nil, fmt.Errorf("query %q at %s: %w", query, s.address, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		loadErrors.WithLabelValues("prometheus", "bad_response").Inc()
		return nil, fmt.Errorf("query %q at %s returned a %s, want an instant vector", query, s.address, v.Type())
	}
	return vec, nil
}

// relayIndex finds relays by Corefile name or by address.
type relayIndex map[string]*relay

func newRelayIndex(relays []*relay) relayIndex {
	idx := relayIndex{}
	for _, r := range relays {
		idx[r.value()] = r
	}
	for _, r := range relays {
		idx[r.name] = r // names win over addresses
	}
	return idx
}
