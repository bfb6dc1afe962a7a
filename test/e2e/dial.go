package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// setns moves the calling OS thread into the network namespace open as f.
func setns(f *os.File) error {
	return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
}

// inside runs f on an OS thread switched into the namespace, and switches
// the thread back before other goroutines may use it. A socket belongs to
// the namespace it was created in, so a connection dialled by f stays in
// the namespace after the thread has left it. This is for the test's own
// probes only (DNS queries, readiness, metrics): the gateway runs as a
// process inside the namespace, as a real one would.
func (n netns) inside(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open(filepath.Join(netnsDir, string(n)))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", n, err)
			return
		}
		ferr := f()
		if err := setns(self); err != nil {
			// The thread stays locked: it ends with this goroutine,
			// and no other goroutine runs in the wrong namespace.
			errc <- fmt.Errorf("setns back from %s: %w", n, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// dial connects from inside the namespace.
func (n netns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.inside(func() (err error) {
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// exchange sends m over UDP to server ("host:port") from inside the
// namespace, waiting at most timeout.
func (n netns) exchange(m *dns.Msg, server string, timeout time.Duration) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := n.dial(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	cl := &dns.Client{Timeout: timeout, UDPSize: dns.DefaultMsgSize}
	r, _, err := cl.ExchangeWithConnContext(ctx, m, &dns.Conn{Conn: c, UDPSize: dns.DefaultMsgSize})
	return r, err
}

// httpClient is an HTTP client whose connections start inside the
// namespace.
func (n netns) httpClient() *http.Client {
	return &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{DialContext: n.dial, DisableKeepAlives: true},
	}
}
