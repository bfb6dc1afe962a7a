package gatewayresolver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

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
// n of timeouts waits backoff(n) for each reply (RFC 8777 §3.5); servers
// answering with other rcodes are skipped, and rounds continue only while
// some server timed out. When every server failed, the last error reply, if
// any, is returned with the error.
func (s *session) query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	r := s.r
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(ednsSize, false)
	q := questionString(name, qtype)

	var errs []error
	var lastReply *dns.Msg
	for n := range r.attempts() {
		timedOut := false
		for _, server := range s.servers {
			m.Id = dns.Id()
			timeout := backoff(n, r.retryInitial(), r.retryMax(), int64n)
			qctx, cancel := context.WithTimeout(ctx, timeout)
			start := time.Now()
			resp, err := s.exchange(qctx, m, server)
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			took := time.Since(start).Round(time.Millisecond)
			if err == nil {
				r.tracef("dns: %s @%s: %s, %d answers%s, %v", q, server, dns.RcodeToString[resp.Rcode], len(resp.Answer), ttlText(resp), took)
				switch resp.Rcode {
				case dns.RcodeSuccess, dns.RcodeNameError:
					return resp, nil
				}
				lastReply = resp
				err = fmt.Errorf("%w: %s", ErrRcode, dns.RcodeToString[resp.Rcode])
			} else {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
					timedOut = true
					err = fmt.Errorf("no reply within %v", timeout)
				}
				r.tracef("dns: %s @%s: %v", q, server, err)
			}
			errs = appendErr(errs, fmt.Errorf("%s from %s: %w", q, server, err))
		}
		if !timedOut {
			break
		}
	}
	return lastReply, errors.Join(errs...)
}

// questionString names a question as "name TYPE".
func questionString(name string, qtype uint16) string {
	return dns.Fqdn(name) + " " + dns.TypeToString[qtype]
}

// ttlText gives the smallest answer TTL, for traces.
func ttlText(m *dns.Msg) string {
	if len(m.Answer) == 0 {
		return ""
	}
	ttl := m.Answer[0].Header().Ttl
	for _, rr := range m.Answer[1:] {
		ttl = min(ttl, rr.Header().Ttl)
	}
	return fmt.Sprintf(", TTL %d", ttl)
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
	resp, err := s.exchangeOver(ctx, "udp", m, server)
	if err == nil && resp.Truncated {
		resp, err = s.exchangeOver(ctx, "tcp", m, server)
	}
	if err != nil {
		return nil, err
	}
	if err := matches(resp, m); err != nil {
		return nil, err
	}
	return resp, nil
}

// exchangeOver is amtrelayrr.Exchange with the write inside the rate
// limit: the query counts when it leaves (RFC 8777 §3.2.2). Replies are
// read with amtrelayrr.UnpackMsg, which decodes D=1 AMTRELAY records, and
// UDP datagrams with another ID are skipped.
func (s *session) exchangeOver(ctx context.Context, network string, m *dns.Msg, server string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, UDPSize: ednsSize}
	conn, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	conn.UDPSize = ednsSize
	err = s.r.limiter.send(ctx, func() error {
		if s.r.sendHook != nil {
			s.r.sendHook()
		}
		if f, ok := ctx.Value(sentHook{}).(func()); ok {
			f()
		}
		return conn.WriteMsg(m)
	})
	if err != nil {
		return nil, err
	}
	_, udp := conn.Conn.(net.PacketConn)
	for {
		raw, err := conn.ReadMsgHeader(nil)
		if udp && (errors.Is(err, dns.ErrShortRead) || err == nil && (len(raw) < 2 || binary.BigEndian.Uint16(raw) != m.Id)) {
			continue // not a reply to m: skip it before trying to unpack it
		}
		if err != nil {
			return nil, err
		}
		resp, err := amtrelayrr.UnpackMsg(raw)
		if err != nil {
			return nil, err
		}
		if resp.Id != m.Id {
			return nil, amtrelayrr.ErrIDMismatch
		}
		return resp, nil
	}
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
