package amtrelay

import (
	"context"
	"errors"
	"fmt"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Prometheus queries of a fleet. Every instance behind one anycast
// address asks the same Prometheus the same query; to get the same
// answer, they must also ask for the same time. So a query made every
// interval is evaluated at its aligned time, the current time rounded
// down to the interval (alignedTime), and is made shortly after that
// time (nextAligned), so that every instance switches to the new answer
// at about the same moment.

// alignedTime is the evaluation time of a query made every interval at
// now: now rounded down to a multiple of interval (since the zero time,
// the same in every process).
func alignedTime(now time.Time, interval time.Duration) time.Time {
	return now.Truncate(interval)
}

// settle is how long after an aligned time its query is made: samples
// that Prometheus scraped just before the aligned time are stamped with
// the scrape's start, but stored only when the scrape ends.
func settle(interval time.Duration) time.Duration { return min(interval/4, time.Second) }

// nextAligned is how long from now until the next query: its aligned
// time plus settle.
func nextAligned(now time.Time, interval time.Duration) time.Duration {
	s := settle(interval)
	return now.Add(-s).Truncate(interval).Add(interval + s).Sub(now)
}

// errNotVector is a query result that is not an instant vector.
var errNotVector = errors.New("not an instant vector")

// sample is one series of an instant query's result, with the time its
// value was scraped.
type sample struct {
	metric model.Metric
	value  float64
	at     time.Time
}

// stampedQuery runs query at time at, and timestamp(query) to learn when
// each value was scraped: Prometheus stamps instant results with the
// evaluation time, and returns a series for up to its lookback delta
// (5 minutes) after its exporter went away. A series whose scrape time
// is unknown keeps the evaluation time. timestamp() drops the metric
// name, so the two results are matched by their other labels.
func stampedQuery(ctx context.Context, api promv1.API, address, query string, at time.Time) ([]sample, error) {
	values, err := instantQuery(ctx, api, address, query, at)
	if err != nil {
		return nil, err
	}
	stamps, err := instantQuery(ctx, api, address, "timestamp("+query+")", at)
	if err != nil {
		stamps = nil // keep the evaluation times
	}
	scraped := map[model.Fingerprint]time.Time{}
	for _, s := range stamps {
		scraped[withoutName(s.Metric)] = time.Unix(0, int64(float64(s.Value)*1e9))
	}
	out := make([]sample, 0, len(values))
	for _, v := range values {
		t := v.Timestamp.Time()
		if s, ok := scraped[withoutName(v.Metric)]; ok {
			t = s
		}
		out = append(out, sample{metric: v.Metric, value: float64(v.Value), at: t})
	}
	return out, nil
}

// withoutName is the fingerprint of m's labels other than the metric name.
func withoutName(m model.Metric) model.Fingerprint {
	if _, ok := m[model.MetricNameLabel]; !ok {
		return m.Fingerprint()
	}
	c := m.Clone()
	delete(c, model.MetricNameLabel)
	return c.Fingerprint()
}

// instantQuery runs one instant query at time at and wants a vector back.
func instantQuery(ctx context.Context, api promv1.API, address, query string, at time.Time) (model.Vector, error) {
	v, _, err := api.Query(ctx, query, at)
	if err != nil {
		return nil, fmt.Errorf("query %q at %s: %w", query, address, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %q at %s returned a %s: %w", query, address, v.Type(), errNotVector)
	}
	return vec, nil
}
