package amtrelay

import (
	"context"
	"errors"
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

// read runs the query at the aligned time of now (promquery.go), so that
// every instance asking in the same interval gets the same answer; each
// reading's time is when Prometheus scraped it.
func (s *promSource) read(ctx context.Context, now time.Time) ([]reading, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	samples, err := stampedQuery(ctx, s.api, s.address, s.query, alignedTime(now, s.interval))
	if err != nil {
		reason := "unreachable"
		if errors.Is(err, errNotVector) {
			reason = "bad_response"
		}
		loadErrors.WithLabelValues("prometheus", reason).Inc()
		return nil, err
	}
	var out []reading
	for _, smp := range samples {
		name := string(smp.metric[s.label])
		r := s.relays[name]
		if r == nil {
			loadErrors.WithLabelValues("prometheus", "unknown_relay").Inc()
			s.poller.problem("prometheus", "relay/"+name, "Prometheus result %s names no relay of this server block in label %q: ignored", smp.metric, s.label)
			continue
		}
		out = append(out, reading{relay: r, value: smp.value, at: smp.at})
	}
	return out, nil
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
