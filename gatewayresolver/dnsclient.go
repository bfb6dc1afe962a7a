package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amtrelayrr"
)

// session is the DNS configuration of one Lookup: the servers and search
// list, read once.
type session struct {
	r       *Resolver
	servers []string
	search  []string
}

// newSession reads the servers and search list. The search list is read
// even when Servers is set; a missing resolv.conf is an error only when no
// Servers are configured.
func (r *Resolver) newSession() (*session, error) {
	r.init()
	s := &session{r: r, servers: r.Servers}
	cc, err := dns.ClientConfigFromFile(r.resolvConf())
	if err == nil {
		s.search = cc.Search
		if len(s.servers) == 0 {
			for _, ns := range cc.Servers {
				s.servers = append(s.servers, net.JoinHostPort(ns, cc.Port))
			}
		}
	}
	if len(s.servers) == 0 {
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoServers, err)
		}
		return nil, fmt.Errorf("%w in %s", ErrNoServers, r.resolvConf())
	}
	return s, nil
}

// query asks the servers one question and returns the first reply whose
// rcode is NOERROR or NXDOMAIN. Each query waits for its turn under the rate
// limit (RFC 8777 §3.2.2). A truncated UDP reply is retried over TCP. Round
// n of timeouts waits Backoff(n) for each reply (RFC 8777 §3.5); servers
// answering with other rcodes are skipped, and rounds continue only while
// some server timed out.
func (s *session) query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	r := s.r
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(DefaultEDNSSize, false)

	var errs []error
	for n := range r.attempts() {
		timedOut := false
		for _, server := range s.servers {
			m.Id = dns.Id()
			timeout := backoff(n, r.retryInitial(), r.retryMax(), int64n)
			qctx, cancel := context.WithTimeout(ctx, timeout)
			resp, err := s.exchange(qctx, m, server)
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err == nil {
				switch resp.Rcode {
				case dns.RcodeSuccess, dns.RcodeNameError:
					return resp, nil
				}
				err = fmt.Errorf("%w: %s", ErrRcode, dns.RcodeToString[resp.Rcode])
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
				timedOut = true
				err = fmt.Errorf("no reply within %v", timeout)
			}
			errs = appendErr(errs, fmt.Errorf("%s %s from %s: %w", strings.TrimSuffix(name, "."), dns.TypeToString[qtype], server, err))
		}
		if !timedOut {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// appendErr keeps at most a few distinct errors, so a long outage does not
// build a long message.
func appendErr(errs []error, err error) []error {
	const keep = 4
	for _, e := range errs {
		if e.Error() == err.Error() {
			return errs
		}
	}
	if len(errs) >= keep {
		return errs
	}
	return append(errs, err)
}

// exchange sends m to one server over UDP, then over TCP if the reply is
// truncated, and checks that the reply answers m.
func (s *session) exchange(ctx context.Context, m *dns.Msg, server string) (*dns.Msg, error) {
	if err := s.r.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	if f, ok := ctx.Value(sentHook{}).(func()); ok {
		f()
	}
	resp, _, err := amtrelayrr.Exchange(ctx, &dns.Client{Net: "udp", UDPSize: DefaultEDNSSize}, m, server)
	if err == nil && resp.Truncated {
		if err := s.r.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		resp, _, err = amtrelayrr.Exchange(ctx, &dns.Client{Net: "tcp"}, m, server)
	}
	if err != nil {
		return nil, err
	}
	if err := matches(resp, m); err != nil {
		return nil, err
	}
	return resp, nil
}

// matches checks that resp is a response to q: same question, QR set.
// (amtrelayrr.Exchange already matched the ID.)
func matches(resp, q *dns.Msg) error {
	switch {
	case !resp.Response:
		return fmt.Errorf("%w: QR bit clear", ErrMismatch)
	case resp.Opcode != dns.OpcodeQuery:
		return fmt.Errorf("%w: opcode %d", ErrMismatch, resp.Opcode)
	case len(resp.Question) != 1:
		if len(resp.Question) == 0 && resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
			return nil // some servers drop the question from error replies
		}
		return fmt.Errorf("%w: %d questions", ErrMismatch, len(resp.Question))
	}
	got, want := resp.Question[0], q.Question[0]
	if !strings.EqualFold(got.Name, want.Name) || got.Qtype != want.Qtype || got.Qclass != want.Qclass {
		return fmt.Errorf("%w: answers %s %s", ErrMismatch, got.Name, dns.TypeToString[got.Qtype])
	}
	return nil
}
