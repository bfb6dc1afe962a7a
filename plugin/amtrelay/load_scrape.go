package amtrelay

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeConcurrency bounds the relays scraped at once.
const scrapeConcurrency = 16

// maxScrapeBytes bounds a relay's metrics page.
const maxScrapeBytes = 4 << 20

// scrapeSource reads each relay's load from the Prometheus text format its
// own metrics endpoint serves: the value of one metric.
type scrapeSource struct {
	metric string
	// template makes a relay's URL from its address, unless the relay has
	// `metrics URL` of its own.
	template string
	targets  map[*relay]string // relay -> URL
	interval time.Duration
	timeout  time.Duration
	client   *http.Client
	poller   *loadPoller
}

func (s *scrapeSource) String() string       { return "scrape" }
func (s *scrapeSource) every() time.Duration { return s.interval }

// scrapeURL fills {address} in a URL template with the relay's address
// (bracketed for IPv6) or name.
func scrapeURL(template string, r *relay) string {
	host := r.value()
	if r.record.Addr.Is6() {
		host = "[" + host + "]"
	}
	host = strings.TrimSuffix(host, ".")
	return strings.ReplaceAll(template, "{address}", host)
}

func (s *scrapeSource) read(ctx context.Context, now time.Time) ([]reading, error) {
	var (
		mu    sync.Mutex
		out   []reading
		fails int
		wg    sync.WaitGroup
		sem   = make(chan struct{}, scrapeConcurrency)
	)
	for r, url := range s.targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			v, at, err := s.scrape(ctx, url, now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fails++
				s.poller.problem("scrape", "relay/"+r.name, "scraping load of relay %s from %s: %v", r.name, url, err)
				return
			}
			s.poller.problem("scrape", "relay/"+r.name, "")
			out = append(out, reading{relay: r, value: v, at: at})
		}()
	}
	wg.Wait()
	if fails > 0 && fails == len(s.targets) {
		return out, fmt.Errorf("no relay's metrics could be read")
	}
	return out, nil
}

// scrape reads one page and returns the metric's value and time (the
// sample's own timestamp if it has one, else when it was read).
func (s *scrapeSource) scrape(ctx context.Context, url string, now time.Time) (float64, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, now, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := s.client.Do(req)
	if err != nil {
		loadErrors.WithLabelValues("scrape", "unreachable").Inc()
		return 0, now, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		loadErrors.WithLabelValues("scrape", "bad_response").Inc()
		return 0, now, fmt.Errorf("HTTP %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, maxScrapeBytes))
	if err != nil {
		loadErrors.WithLabelValues("scrape", "bad_response").Inc()
		return 0, now, fmt.Errorf("not the Prometheus text format: %w", err)
	}
	fam, ok := families[s.metric]
	if !ok || len(fam.GetMetric()) == 0 {
		loadErrors.WithLabelValues("scrape", "bad_response").Inc()
		return 0, now, fmt.Errorf("no metric %q on the page", s.metric)
	}
	m := fam.GetMetric()[0]
	var v float64
	switch {
	case m.GetGauge() != nil:
		v = m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		v = m.GetUntyped().GetValue()
	case m.GetCounter() != nil:
		v = m.GetCounter().GetValue()
	default:
		loadErrors.WithLabelValues("scrape", "bad_response").Inc()
		return 0, now, fmt.Errorf("metric %q is a %s, want a gauge", s.metric, fam.GetType())
	}
	at := now
	if m.TimestampMs != nil {
		at = time.UnixMilli(m.GetTimestampMs())
	}
	return v, at, nil
}

// newScrapeClient is an HTTP client that does not follow the environment's
// proxy settings: relays are reached directly.
func newScrapeClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 1,
	}}
}
