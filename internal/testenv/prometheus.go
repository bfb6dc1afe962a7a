package testenv

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartPrometheus runs a Prometheus server (Debian package prometheus) on
// 127.0.0.1 that scrapes targets ("host:port", path /metrics) every
// second, with its storage in t.TempDir(). It returns the server's
// "http://127.0.0.1:port" once the server is ready, and a stop function
// (also called when the test ends) for tests that take it away.
func StartPrometheus(t testing.TB, targets ...string) (url string, stop func()) {
	t.Helper()
	bin := LookPath(t, "prometheus", "prometheus")
	dir := t.TempDir()
	port := FreePort(t)
	conf := PrometheusConfig(targets...)
	confPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--config.file="+confPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	out := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			<-done
		}
	}
	t.Cleanup(stop)
	url = "http://" + addr
	deadline := time.Now().Add(Patience)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			t.Fatalf("prometheus exited: %s", out.String())
		default:
		}
		if resp, err := http.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, stop
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("prometheus not ready on %s within %v: %s", addr, Patience, out.String())
	return "", nil
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// PrometheusConfig is the text of a prometheus.yml that scrapes targets
// ("host:port", path /metrics) every second, in one job named relays, as
// StartPrometheus runs it.
func PrometheusConfig(targets ...string) string {
	return fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: relays
    static_configs:
      - targets: [%s]
`, quoteAll(targets))
}
