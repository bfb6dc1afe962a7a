package test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amtrelayrr"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// The hostile-input table: malformed and unusual queries sent over UDP and
// TCP to the static example (and, for EDNS Client Subnet, the closest
// example), each with the reply the RFCs call for. test/RELIABILITY.md
// holds the same table; TestReliabilityDocMatchesTable keeps the two in
// step. Where an RFC leaves the reply open, the row follows BIND 9, and
// TestHostileBIND checks that BIND still does so.

// hostileCase is one row: a packet, how it is sent, what must come back
// and the RFC section that says so.
type hostileCase struct {
	name string
	// nets are the transports the packet is sent over: "udp", "tcp".
	nets []string
	// ecs sends the packet to the closest-policy server, which locates
	// clients by EDNS Client Subnet; otherwise to the static one.
	ecs bool
	// msg is the DNS message. Over TCP it is framed with its length
	// unless stream is set.
	msg []byte
	// stream, for TCP framing cases, is written as is, one write per
	// element, pause apart. An empty, non-nil stream writes nothing.
	stream [][]byte
	pause  time.Duration
	want   outcome
	rfc    string
	// departs is set where CoreDNS or miekg/dns, below the plugin, answer
	// other than want: the test checks what they do, so that a change is
	// noticed, and RELIABILITY.md says why the plugin cannot change it.
	departs *departure
}

// departure is what the server does instead of the RFC's or BIND's
// answer, and why.
type departure struct {
	got outcome
	why string
}

// outcome is what the server must do with a hostile packet.
type outcome struct {
	// none: no reply at all (UDP: silence; TCP: no message back).
	none bool
	// rcode of every reply, extended RCODE included.
	rcode int
	// replies expected (TCP pipelining); 0 means 1.
	replies int
	// conn is what the server does with a TCP connection after the
	// replies, if any.
	conn connState
	// props are further properties every reply must have.
	props []prop
}

// connState is what becomes of a TCP connection.
type connState int

const (
	// connOpen: the server keeps the connection and answers a further
	// query on it.
	connOpen connState = iota
	// connClosed: the server closes the connection.
	connClosed
	// connEither: the server may close the connection or keep it
	// (RFC 7766 §6.2.4 lets it close one "under unusual conditions").
	connEither
)

// prop is a checked property of a reply, named as RELIABILITY.md names it.
type prop struct {
	name string
	// check returns why r lacks the property, or "".
	check func(r *dns.Msg) string
}

func (o outcome) String() string {
	var parts []string
	switch {
	case o.none:
		parts = append(parts, "no reply")
	case o.replies > 1:
		parts = append(parts, fmt.Sprintf("%d × %s", o.replies, rcodeName(o.rcode)))
	default:
		parts = append(parts, rcodeName(o.rcode))
	}
	for _, p := range o.props {
		parts = append(parts, p.name)
	}
	switch o.conn {
	case connClosed:
		parts = append(parts, "connection closed")
	case connEither:
		parts = append(parts, "connection may close")
	}
	return strings.Join(parts, ", ")
}

func rcodeName(rcode int) string {
	if rcode == dns.RcodeBadVers {
		return "BADVERS" // miekg/dns names 16 after TSIG's BADSIG
	}
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

// Outcomes and properties used by the table.
var (
	noReply = outcome{none: true}
	// garbage is no reply, and over TCP maybe a closed connection: the
	// stream can no longer be trusted.
	garbage = outcome{none: true, conn: connEither}

	threeRelays = prop{"3 relays", func(r *dns.Msg) string {
		got, err := relaysOf(r)
		if err != nil {
			return err.Error()
		}
		if len(got) != 3 {
			return fmt.Sprintf("relays %q, want 3", got)
		}
		return ""
	}}
	hasOPT = prop{"OPT", func(r *dns.Msg) string {
		if r.IsEdns0() == nil {
			return "no OPT record"
		}
		return ""
	}}
	zeroZ = prop{"OPT Z=0", func(r *dns.Msg) string {
		opt := r.IsEdns0()
		if opt == nil {
			return "no OPT record"
		}
		if z := opt.Hdr.Ttl & 0x7fff; z != 0 {
			return fmt.Sprintf("OPT Z bits %#04x echoed", z)
		}
		return ""
	}}
	noUnknownOption = prop{"option not echoed", func(r *dns.Msg) string {
		if opt := r.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if o.Option() == unknownOptionCode {
					return fmt.Sprintf("unknown option %d echoed", unknownOptionCode)
				}
			}
		}
		return ""
	}}
	notTruncated = prop{"TC=0", func(r *dns.Msg) string {
		if r.Truncated {
			return "TC set"
		}
		return ""
	}}
	ecsScope0 = prop{"ECS SCOPE 0", func(r *dns.Msg) string {
		e, why := replyECS(r)
		if e != nil && e.SourceScope != 0 {
			return fmt.Sprintf("ECS SCOPE %d", e.SourceScope)
		}
		return why
	}}
	soaAuthority = prop{"SOA", func(r *dns.Msg) string {
		if len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
			return fmt.Sprintf("authority %v, want the zone's SOA", r.Ns)
		}
		return ""
	}}
	someAnswer = prop{"answer", func(r *dns.Msg) string {
		if len(r.Answer) == 0 {
			return "empty answer"
		}
		return ""
	}}
)

// ecsEchoed: the reply's ECS option has the query's FAMILY, SOURCE
// PREFIX-LENGTH and ADDRESS (RFC 7871 §7.2.1).
func ecsEchoed(family uint16, source uint8, addr ...byte) prop {
	return prop{"ECS echoed", func(r *dns.Msg) string {
		e, why := replyECS(r)
		if e == nil {
			return why
		}
		got := e.Address // as miekg/dns unpacks it: 4 or 16 octets
		if e.Family == 1 {
			got = got.To4()
		}
		if e.Family != family || e.SourceNetmask != source || len(got) < len(addr) || !bytes.Equal(got[:len(addr)], addr) {
			return fmt.Sprintf("ECS %d/%d %v, want %d/%d %v", e.Family, e.SourceNetmask, e.Address, family, source, addr)
		}
		return ""
	}}
}

// replyECS returns the ECS option of r, or why there is none.
func replyECS(r *dns.Msg) (*dns.EDNS0_SUBNET, string) {
	opt := r.IsEdns0()
	if opt == nil {
		return nil, "no OPT record"
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_SUBNET); ok {
			return e, ""
		}
	}
	return nil, "no ECS option in the reply"
}

func rcodeIs(rcode int, props ...prop) outcome { return outcome{rcode: rcode, props: props} }

// relaysOf decodes the AMTRELAY answers of r.
func relaysOf(r *dns.Msg) ([]string, error) {
	var out []string
	for _, rr := range r.Answer {
		if rr.Header().Rrtype != dns.TypeAMTRELAY {
			continue
		}
		rel, err := amtrelayrr.FromRR(rr)
		if err != nil {
			return nil, err
		}
		out = append(out, rel.String())
	}
	return out, nil
}

// Wire-format builders. They write exactly what they are given, however
// wrong: label lengths over 63, counts that lie, options that overrun.

const (
	flagQR = 0x8000
	flagAA = 0x0400
	flagTC = 0x0200
	flagRD = 0x0100
	flagZ  = 0x0040

	// unknownOptionCode is an EDNS option code in the range reserved for
	// local or experimental use (RFC 6891 §9).
	unknownOptionCode = 65001
)

func u16[T ~int | ~uint16](v T) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// header is a DNS header: ID, flags and the four section counts.
func header(id, flags, qd, an, ns, ar int) []byte {
	return cat(u16(id), u16(flags), u16(qd), u16(an), u16(ns), u16(ar))
}

// wireName encodes labels uncompressed, ending with the root label.
func wireName(labels ...string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// sourceName is the name every good query asks for: a source in
// 198.51.100.0/24, answered with the RFC 8777 example relays.
var sourceName = wireName("12", "100", "51", "198", "in-addr", "arpa")

func question(name []byte, qtype, qclass uint16) []byte { return cat(name, u16(qtype), u16(qclass)) }

// goodQuestion asks for the AMTRELAY records of sourceName in class IN.
var goodQuestion = question(sourceName, dns.TypeAMTRELAY, dns.ClassINET)

// query1 is a query with the good question and the given flags and
// additional records.
func query1(flags int, additional ...[]byte) []byte {
	return cat(header(0x4a01, flags, 1, 0, 0, len(additional)), goodQuestion, cat(additional...))
}

// opt is an OPT record: owner, UDP payload size, TTL (extended RCODE,
// version, DO, Z) and options.
func opt(owner []byte, size int, ttl uint32, options ...[]byte) []byte {
	rdata := cat(options...)
	return cat(owner, u16(dns.TypeOPT), u16(size), binary.BigEndian.AppendUint32(nil, ttl), u16(len(rdata)), rdata)
}

// rootOPT is an OPT record owned by the root with UDP size 1232.
func rootOPT(options ...[]byte) []byte { return opt([]byte{0}, 1232, 0, options...) }

// option is one EDNS option: code, length, data.
func option(code int, data ...byte) []byte { return cat(u16(code), u16(len(data)), data) }

// ecs is an EDNS Client Subnet option (RFC 7871 §6).
func ecs(family, source, scope int, addr ...byte) []byte {
	return option(dns.EDNS0SUBNET, cat(u16(family), []byte{byte(source), byte(scope)}, addr)...)
}

// frame prefixes msg with its TCP length (RFC 1035 §4.2.2).
func frame(msg []byte) []byte { return cat(u16(len(msg)), msg) }

// withQuestion is a query with flags and the question q.
func withQuestion(flags int, q []byte) []byte { return cat(header(0x4a02, flags, 1, 0, 0, 0), q) }

func opcode(op int) int { return flagRD | op<<11 }

var (
	udpOnly = []string{"udp"}
	tcpOnly = []string{"tcp"}
	both    = []string{"udp", "tcp"}
)

// hostileCases is the table. Keep test/RELIABILITY.md in step.
func hostileCases() []hostileCase {
	good := query1(flagRD)
	withECS := func(e []byte) []byte { return query1(flagRD, rootOPT(e)) }
	// A second query, for pipelining, with its own ID.
	good2 := cat(header(0x4a03, flagRD, 1, 0, 0, 0), goodQuestion)
	// A query whose reply (about 150 octets) is bigger than its UDP size.
	tinyUDP := query1(flagRD, opt([]byte{0}, 100, 0))
	// An A record owned by the source name, for the count lies.
	answerRR := cat(sourceName, u16(dns.TypeA), u16(dns.ClassINET), []byte{0, 0, 0, 30}, u16(4), []byte{192, 0, 2, 1})
	long := strings.Repeat("a", 63)
	v6 := []byte{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01}

	return []hostileCase{
		// Headers.
		{name: "QR set (a response, not a query)", nets: both, msg: query1(flagQR | flagRD), want: garbage, rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "QDCOUNT 0, no question", nets: both, msg: header(0x4a01, flagRD, 0, 0, 0, 0), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "QDCOUNT 2, two questions", nets: both, msg: cat(header(0x4a01, flagRD, 2, 0, 0, 0), goodQuestion, goodQuestion), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 9619"},
		{name: "QDCOUNT 2, one question present", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 2, 0, 0, 0), goodQuestion), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 9619"},
		{name: "QDCOUNT 1, header only", nets: both, msg: header(0x4a01, flagRD, 1, 0, 0, 0), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9", departs: &departure{got: rcodeIs(dns.RcodeServerFailure), why: "CoreDNS answers a message without a question SERVFAIL before any plugin runs"}},
		{name: "QDCOUNT 65535", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 65535, 0, 0, 0), goodQuestion), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 9619"},
		{name: "ANCOUNT 1, no answer present", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 1, 0, 0), goodQuestion), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9", departs: &departure{got: rcodeIs(dns.RcodeSuccess), why: "miekg/dns unpacks what is there and ignores counts that lie"}},
		{name: "ANCOUNT 2, one answer present", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 2, 0, 0), goodQuestion, answerRR), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "NSCOUNT 1, no authority present", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 0, 1, 0), goodQuestion), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9", departs: &departure{got: rcodeIs(dns.RcodeSuccess), why: "miekg/dns unpacks what is there and ignores counts that lie"}},
		{name: "ARCOUNT 1, no additional present", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 0, 0, 1), goodQuestion), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9", departs: &departure{got: rcodeIs(dns.RcodeSuccess), why: "miekg/dns unpacks what is there and ignores counts that lie"}},
		{name: "ARCOUNT 65535", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 0, 0, 65535), goodQuestion, rootOPT()), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "truncated header (11 octets)", nets: both, msg: good[:11], want: garbage, rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "1-octet message", nets: both, msg: []byte{0x4a}, want: garbage, rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "0-octet message", nets: udpOnly, msg: []byte{}, want: noReply, rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "TC set in a query", nets: both, msg: query1(flagRD | flagTC), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "AA set in a query", nets: both, msg: query1(flagRD | flagAA), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "Z bit set in a query", nets: udpOnly, msg: query1(flagRD | flagZ), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "RCODE 5 set in a query", nets: both, msg: query1(flagRD | dns.RcodeRefused), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "trailing garbage after the question", nets: udpOnly, msg: cat(good, []byte("garbage")), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 1035 §4.1.1; BIND 9"},

		// Names.
		{name: "label of 64 octets (length byte 0x40)", nets: both, msg: withQuestion(flagRD, question(wireName(long+"a"), dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §2.3.4, RFC 6891 §5"},
		{name: "label length byte 0x80 (reserved)", nets: udpOnly, msg: withQuestion(flagRD, question(cat([]byte{0x80}, sourceName), dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.4"},
		{name: "name of 321 octets", nets: both, msg: withQuestion(flagRD, question(wireName(long, long, long, long, long), dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §2.3.4"},
		{name: "label runs past the end", nets: both, msg: cat(header(0x4a01, flagRD, 1, 0, 0, 0), []byte{40, 'a', 'b'}), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "name without its root label", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 0, 0, 0), sourceName[:len(sourceName)-1]), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "question without QTYPE and QCLASS", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 0, 0, 0), sourceName), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.2; BIND 9"},
		{name: "empty label inside the name", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 0, 0, 0), question(wireName("12"), dns.TypeAMTRELAY, dns.ClassINET), wireName("100", "51", "198", "in-addr", "arpa")), want: rcodeIs(dns.RcodeRefused), rfc: "RFC 1035 §3.1; BIND 9"},
		{name: `label "12.100" under 51.198.in-addr.arpa`, nets: both, msg: withQuestion(flagRD, question(wireName("12.100", "51", "198", "in-addr", "arpa"), dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeRefused), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: `label "12.100.51.198.in-addr.arpa"`, nets: udpOnly, msg: withQuestion(flagRD, question(wireName("12.100.51.198.in-addr.arpa"), dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeRefused), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "uppercase name", nets: both, msg: withQuestion(flagRD, question(wireName("12", "100", "51", "198", "IN-ADDR", "ARPA"), dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 1035 §2.3.3, RFC 4343"},
		{name: "mixed-case name", nets: udpOnly, msg: withQuestion(flagRD, question(wireName("12", "100", "51", "198", "In-AdDr", "aRpA"), dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 1035 §2.3.3, RFC 4343"},
		{name: "binary octets in a label", nets: both, msg: withQuestion(flagRD, question(wireName("\x00\xff.\x20\x7f", "100", "51", "198", "in-addr", "arpa"), dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeNameError, soaAuthority), rfc: "RFC 2181 §11, RFC 2308 §2.1"},
		{name: "root name", nets: both, msg: withQuestion(flagRD, question([]byte{0}, dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeRefused), rfc: "RFC 1035 §4.1.1; BIND 9"},

		// Compression pointers in the question name.
		{name: "pointer to itself (loop)", nets: both, msg: withQuestion(flagRD, question([]byte{0xc0, 12}, dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.4"},
		{name: "two pointers in a loop", nets: udpOnly, msg: withQuestion(flagRD, question([]byte{0x01, 'a', 0xc0, 16, 0xc0, 12}, dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.4"},
		{name: "pointer past the end", nets: both, msg: withQuestion(flagRD, question([]byte{0xc0, 0xff}, dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.4"},
		{name: "pointer into the header", nets: both, msg: withQuestion(flagRD, question([]byte{0xc0, 2}, dns.TypeAMTRELAY, dns.ClassINET)), want: rcodeIs(dns.RcodeRefused), rfc: "RFC 1035 §4.1.4; BIND 9"},
		{name: "pointer forward to a later copy of the name", nets: both, msg: cat(header(0x4a01, flagRD, 1, 0, 0, 0), []byte{0x02, '1', '2', 0xc0, 21}, u16(dns.TypeAMTRELAY), u16(dns.ClassINET), wireName("100", "51", "198", "in-addr", "arpa")), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.4; BIND 9", departs: &departure{got: rcodeIs(dns.RcodeSuccess), why: "miekg/dns follows forward pointers; it refuses loops"}},
		{name: "pointer cut in half", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 0, 0, 0), []byte{0x02, '1', '2', 0xc0}), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.4"},

		// Opcodes.
		{name: "opcode IQUERY (1)", nets: both, msg: query1(opcode(dns.OpcodeIQuery)), want: rcodeIs(dns.RcodeNotImplemented), rfc: "RFC 1035 §4.1.1, RFC 3425"},
		{name: "opcode STATUS (2)", nets: udpOnly, msg: query1(opcode(dns.OpcodeStatus)), want: rcodeIs(dns.RcodeNotImplemented), rfc: "RFC 1035 §4.1.1"},
		{name: "opcode 3 (unassigned)", nets: udpOnly, msg: query1(opcode(3)), want: rcodeIs(dns.RcodeNotImplemented), rfc: "RFC 1035 §4.1.1"},
		{name: "opcode NOTIFY (4)", nets: both, msg: query1(opcode(dns.OpcodeNotify)), want: rcodeIs(dns.RcodeNotImplemented), rfc: "RFC 1035 §4.1.1, RFC 1996"},
		{name: "opcode UPDATE (5)", nets: both, msg: query1(opcode(dns.OpcodeUpdate)), want: rcodeIs(dns.RcodeNotImplemented), rfc: "RFC 1035 §4.1.1, RFC 2136"},
		{name: "opcode DSO (6)", nets: udpOnly, msg: query1(opcode(6)), want: rcodeIs(dns.RcodeNotImplemented), rfc: "RFC 1035 §4.1.1, RFC 8490"},
		{name: "opcode 15 (unassigned)", nets: udpOnly, msg: query1(opcode(15)), want: rcodeIs(dns.RcodeNotImplemented), rfc: "RFC 1035 §4.1.1"},

		// Classes and types.
		{name: "class CH", nets: both, msg: withQuestion(flagRD, question(sourceName, dns.TypeAMTRELAY, dns.ClassCHAOS)), want: rcodeIs(dns.RcodeRefused), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "class HS", nets: udpOnly, msg: withQuestion(flagRD, question(sourceName, dns.TypeAMTRELAY, dns.ClassHESIOD)), want: rcodeIs(dns.RcodeRefused), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "class NONE (254)", nets: udpOnly, msg: withQuestion(flagRD, question(sourceName, dns.TypeAMTRELAY, dns.ClassNONE)), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "class ANY (255)", nets: both, msg: withQuestion(flagRD, question(sourceName, dns.TypeAMTRELAY, dns.ClassANY)), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 1035 §3.2.5"},
		{name: "class 4660 (unassigned)", nets: udpOnly, msg: withQuestion(flagRD, question(sourceName, dns.TypeAMTRELAY, 0x1234)), want: rcodeIs(dns.RcodeNotImplemented), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "class 0 (reserved)", nets: udpOnly, msg: withQuestion(flagRD, question(sourceName, dns.TypeAMTRELAY, 0)), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "QTYPE ANY", nets: both, msg: withQuestion(flagRD, question(sourceName, dns.TypeANY, dns.ClassINET)), want: rcodeIs(dns.RcodeSuccess, someAnswer), rfc: "RFC 8482 §4.1"},
		{name: "QTYPE AXFR over UDP", nets: udpOnly, msg: withQuestion(0, question(wireName("100", "51", "198", "in-addr", "arpa"), dns.TypeAXFR, dns.ClassINET)), want: rcodeIs(dns.RcodeRefused), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "QTYPE OPT (41)", nets: udpOnly, msg: withQuestion(flagRD, question(sourceName, dns.TypeOPT, dns.ClassINET)), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 6891 §6.1.1; BIND 9"},

		// EDNS.
		{name: "EDNS version 1", nets: both, msg: query1(flagRD, opt([]byte{0}, 1232, 1<<16)), want: rcodeIs(dns.RcodeBadVers, hasOPT), rfc: "RFC 6891 §6.1.3"},
		{name: "two OPT records", nets: both, msg: query1(flagRD, rootOPT(), rootOPT()), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 6891 §6.1.1, §7"},
		{name: "OPT owned by example.", nets: udpOnly, msg: query1(flagRD, opt(wireName("example"), 1232, 0)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 6891 §6.1.2, §7; BIND 9"},
		{name: "OPT owner a pointer to the question name", nets: udpOnly, msg: query1(flagRD, opt([]byte{0xc0, 12}, 1232, 0)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 6891 §6.1.2, §7; BIND 9"},
		{name: "OPT in the answer section", nets: udpOnly, msg: cat(header(0x4a01, flagRD, 1, 1, 0, 0), goodQuestion, rootOPT()), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 6891 §6.1.1; BIND 9"},
		{name: "unknown EDNS flags (all Z bits)", nets: both, msg: query1(flagRD, opt([]byte{0}, 1232, 0x7fff)), want: rcodeIs(dns.RcodeSuccess, threeRelays, zeroZ), rfc: "RFC 6891 §6.1.4"},
		{name: "extended RCODE set in a query", nets: udpOnly, msg: query1(flagRD, opt([]byte{0}, 1232, 0x01000000)), want: rcodeIs(dns.RcodeSuccess, threeRelays, hasOPT), rfc: "RFC 6891 §6.1.3; BIND 9"},
		{name: "unknown option", nets: both, msg: query1(flagRD, rootOPT(option(unknownOptionCode, 1, 2, 3, 4))), want: rcodeIs(dns.RcodeSuccess, threeRelays, noUnknownOption), rfc: "RFC 6891 §6.1.2"},
		{name: "empty option (code 0, length 0)", nets: udpOnly, msg: query1(flagRD, rootOPT(option(0))), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 6891 §6.1.2"},
		{name: "cookie: client cookie only", nets: both, msg: query1(flagRD, rootOPT(option(dns.EDNS0COOKIE, 1, 2, 3, 4, 5, 6, 7, 8))), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 7873 §5.2.3"},
		{name: "cookie of 7 octets", nets: udpOnly, msg: query1(flagRD, rootOPT(option(dns.EDNS0COOKIE, 1, 2, 3, 4, 5, 6, 7))), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 6891 §6.1.2, RFC 7873 §5.2.2"},
		{name: "cookie of 12 octets (4-octet server cookie)", nets: udpOnly, msg: query1(flagRD, rootOPT(option(dns.EDNS0COOKIE, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 6891 §6.1.2, RFC 7873 §5.2.2"},
		{name: "cookie of 41 octets", nets: udpOnly, msg: query1(flagRD, rootOPT(option(dns.EDNS0COOKIE, make([]byte, 41)...))), want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 6891 §6.1.2, RFC 7873 §5.2.2"},
		{name: "UDP payload size 100", nets: udpOnly, msg: tinyUDP, want: rcodeIs(dns.RcodeSuccess, threeRelays, notTruncated), rfc: "RFC 6891 §6.2.3"},
		{name: "UDP payload size 0", nets: udpOnly, msg: query1(flagRD, opt([]byte{0}, 0, 0)), want: rcodeIs(dns.RcodeSuccess, threeRelays, notTruncated), rfc: "RFC 6891 §6.2.3"},
		{name: "option length 65535, past the RDATA", nets: both, msg: query1(flagRD, cat([]byte{0}, u16(dns.TypeOPT), u16(1232), make([]byte, 4), u16(6), u16(dns.EDNS0SUBNET), u16(65535), []byte{0, 1})), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 6891 §7", departs: &departure{got: rcodeIs(dns.RcodeFormatError), why: "miekg/dns fails to unpack the OPT record, and the server answers FORMERR with every section empty, as BIND does"}},
		{name: "OPT RDLENGTH past the message", nets: udpOnly, msg: query1(flagRD, cat([]byte{0}, u16(dns.TypeOPT), u16(1232), make([]byte, 4), u16(200), option(unknownOptionCode, 1, 2))), want: rcodeIs(dns.RcodeFormatError), rfc: "RFC 1035 §4.1.1; BIND 9"},
		{name: "option header cut short", nets: udpOnly, msg: query1(flagRD, cat([]byte{0}, u16(dns.TypeOPT), u16(1232), make([]byte, 4), u16(3), []byte{0, 8, 0})), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 6891 §7", departs: &departure{got: rcodeIs(dns.RcodeFormatError), why: "miekg/dns fails to unpack the OPT record, and the server answers FORMERR with every section empty, as BIND does"}},

		// EDNS Client Subnet, at the closest-policy server.
		{name: "ECS well formed (203.0.113.0/24)", nets: both, ecs: true, msg: withECS(ecs(1, 24, 0, 203, 0, 113)), want: rcodeIs(dns.RcodeSuccess, threeRelays, ecsEchoed(1, 24, 203, 0, 113)), rfc: "RFC 7871 §7.2.1"},
		{name: "ECS unknown FAMILY 3", nets: both, ecs: true, msg: withECS(ecs(3, 24, 0, 203, 0, 113)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §7.2.1, RFC 6891 §7", departs: &departure{got: rcodeIs(dns.RcodeFormatError), why: "miekg/dns refuses the option while unpacking, so the server answers FORMERR with every section empty, before the plugin could add an OPT"}},
		{name: "ECS IPv4 SOURCE 33", nets: udpOnly, ecs: true, msg: withECS(ecs(1, 33, 0, 203, 0, 113, 0, 0)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6, RFC 6891 §7", departs: &departure{got: rcodeIs(dns.RcodeFormatError), why: "miekg/dns refuses the option while unpacking, so the server answers FORMERR with every section empty, before the plugin could add an OPT"}},
		{name: "ECS IPv6 SOURCE 129", nets: udpOnly, ecs: true, msg: withECS(ecs(2, 129, 0, make([]byte, 17)...)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6, RFC 6891 §7", departs: &departure{got: rcodeIs(dns.RcodeFormatError), why: "miekg/dns refuses the option while unpacking, so the server answers FORMERR with every section empty, before the plugin could add an OPT"}},
		{name: "ECS ADDRESS longer than SOURCE needs", nets: both, ecs: true, msg: withECS(ecs(1, 24, 0, 203, 0, 113, 0)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6"},
		{name: "ECS ADDRESS shorter than SOURCE needs", nets: udpOnly, ecs: true, msg: withECS(ecs(1, 24, 0, 203, 0)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6"},
		{name: "ECS IPv6 ADDRESS shorter than SOURCE needs", nets: udpOnly, ecs: true, msg: withECS(ecs(2, 48, 0, 0x20, 0x01, 0x0d, 0xb8)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6"},
		{name: "ECS address bits set past SOURCE", nets: both, ecs: true, msg: withECS(ecs(1, 23, 0, 203, 0, 113)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6"},
		{name: "ECS IPv6 bits set past SOURCE", nets: udpOnly, ecs: true, msg: withECS(ecs(2, 44, 0, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x3f)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6"},
		{name: "ECS SCOPE 24 in a query", nets: both, ecs: true, msg: withECS(ecs(1, 24, 24, 203, 0, 113)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6, §7.2.1; BIND 9"},
		{name: "ECS SOURCE 0, FAMILY 0", nets: both, ecs: true, msg: withECS(ecs(0, 0, 0)), want: rcodeIs(dns.RcodeSuccess, threeRelays, ecsScope0), rfc: "RFC 7871 §7.1.2, §7.2.1"},
		{name: "ECS SOURCE 0, FAMILY 1", nets: udpOnly, ecs: true, msg: withECS(ecs(1, 0, 0)), want: rcodeIs(dns.RcodeSuccess, threeRelays, ecsScope0), rfc: "RFC 7871 §7.1.2, §7.2.1"},
		{name: "ECS FAMILY 0 with an address", nets: udpOnly, ecs: true, msg: withECS(ecs(0, 0, 0, 203, 0, 113)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6; BIND 9"},
		{name: "ECS option of 3 octets", nets: udpOnly, ecs: true, msg: withECS(option(dns.EDNS0SUBNET, 0, 1, 24)), want: rcodeIs(dns.RcodeFormatError, hasOPT), rfc: "RFC 7871 §6, RFC 6891 §7", departs: &departure{got: rcodeIs(dns.RcodeFormatError), why: "miekg/dns refuses the option while unpacking, so the server answers FORMERR with every section empty, before the plugin could add an OPT"}},
		{name: "ECS IPv6 well formed (2001:db8:1::/48)", nets: udpOnly, ecs: true, msg: withECS(ecs(2, 48, 0, v6...)), want: rcodeIs(dns.RcodeSuccess, threeRelays, ecsEchoed(2, 48, v6...)), rfc: "RFC 7871 §7.2.1"},
		{name: "two ECS options", nets: udpOnly, ecs: true, msg: withECS(cat(ecs(1, 24, 0, 203, 0, 113), ecs(1, 24, 0, 203, 0, 113))), want: rcodeIs(dns.RcodeSuccess, threeRelays, hasOPT), rfc: "RFC 7871 §7.2.1; BIND 9"},

		// TCP framing (RFC 7766).
		{name: "length prefix larger than the message", nets: tcpOnly, stream: [][]byte{cat(u16(len(good)+100), good)}, want: outcome{none: true, conn: connClosed}, rfc: "RFC 7766 §6.2.3"},
		{name: "length prefix smaller than the message", nets: tcpOnly, stream: [][]byte{cat(u16(20), good)}, want: outcome{rcode: dns.RcodeFormatError, conn: connClosed}, rfc: "RFC 7766 §8, §6.2.3"},
		{name: "zero length prefix", nets: tcpOnly, stream: [][]byte{u16(0)}, want: garbage, rfc: "RFC 7766 §8; BIND 9"},
		{name: "length prefix only, then silence", nets: tcpOnly, stream: [][]byte{u16(len(good))}, want: outcome{none: true, conn: connClosed}, rfc: "RFC 7766 §6.2.3"},
		{name: "message split over four writes", nets: tcpOnly, stream: [][]byte{u16(len(good))[:1], u16(len(good))[1:], good[:10], good[10:]}, pause: 50 * time.Millisecond, want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 7766 §8"},
		{name: "two queries pipelined in one write", nets: tcpOnly, stream: [][]byte{cat(frame(good), frame(good2))}, want: outcome{rcode: dns.RcodeSuccess, replies: 2, props: []prop{threeRelays}}, rfc: "RFC 7766 §6.2.1.1"},
		{name: "twenty queries pipelined in one write", nets: tcpOnly, stream: [][]byte{pipelined(20)}, want: outcome{rcode: dns.RcodeSuccess, replies: 20, props: []prop{threeRelays}}, rfc: "RFC 7766 §6.2.1.1"},
		{name: "slow client, one octet per write", nets: tcpOnly, stream: octets(frame(good)), pause: 20 * time.Millisecond, want: rcodeIs(dns.RcodeSuccess, threeRelays), rfc: "RFC 7766 §8"},
		{name: "silent client", nets: tcpOnly, stream: [][]byte{}, want: outcome{none: true, conn: connClosed}, rfc: "RFC 7766 §6.2.3"},
	}
}

// pipelined is n framed good queries with IDs 1..n.
func pipelined(n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, frame(cat(header(i+1, flagRD, 1, 0, 0, 0), goodQuestion))...)
	}
	return b
}

// octets splits b into one-octet writes.
func octets(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

// markerID is the ID of the good query sent after a hostile packet to
// tell "no reply" from "not yet".
const markerID = 0x7a7a

var markerQuery = cat(header(markerID, flagRD, 1, 0, 0, 0), goodQuestion)

// result is what came back for a hostile packet.
type result struct {
	replies [][]byte
	closed  bool // TCP: the server closed the connection
}

// send sends hc over network to addr and returns what came back. Over
// TCP, during runs once the case's writes are done, before the replies
// are read.
func (hc hostileCase) send(network, addr string, during func()) (result, error) {
	if network == "udp" {
		return sendUDP(addr, hc.msg, hc.want.count())
	}
	return sendTCP(addr, hc, during)
}

// count is the number of replies o expects.
func (o outcome) count() int {
	switch {
	case o.none:
		return 0
	case o.replies == 0:
		return 1
	}
	return o.replies
}

// sendUDP sends msg, then the marker query, from one socket, and returns
// the datagrams other than the marker's reply. Once the marker is
// answered it waits a little longer for a late reply. A reply cannot be
// told from silence for sure; a late one is missed, never invented.
func sendUDP(addr string, msg []byte, want int) (result, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		return result{}, err
	}
	if _, err := c.Write(markerQuery); err != nil {
		return result{}, err
	}
	var res result
	marked := false
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 65535)
	for {
		if marked && len(res.replies) >= want {
			if want > 0 {
				return res, nil
			}
			deadline = time.Now().Add(250 * time.Millisecond)
		}
		c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		if err != nil {
			if marked {
				return res, nil
			}
			return res, fmt.Errorf("the marker query was not answered: %w", err)
		}
		if n >= 2 && binary.BigEndian.Uint16(buf) == markerID {
			marked = true
			if want == 0 {
				deadline = time.Now().Add(250 * time.Millisecond)
			}
			continue
		}
		res.replies = append(res.replies, append([]byte(nil), buf[:n]...))
	}
}

// sendTCP writes the case's stream on one connection. Unless the server
// must close the connection, it then sends the marker query and reads
// until the marker's reply, which also proves the connection still works;
// otherwise it reads until EOF. during runs after the writes, before
// anything is read.
func sendTCP(addr string, hc hostileCase, during func()) (result, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	stream := hc.stream
	if stream == nil {
		stream = [][]byte{frame(hc.msg)}
	}
	for i, w := range stream {
		if i > 0 && hc.pause > 0 {
			time.Sleep(hc.pause)
		}
		if _, err := c.Write(w); err != nil {
			return result{}, err
		}
	}
	during()
	if hc.want.conn != connClosed {
		// A server that has closed the connection makes this fail;
		// reading tells.
		c.Write(frame(markerQuery))
	}
	var res result
	// Generous: the server drops a silent connection after its read
	// timeout (3 s), an idle one after its idle timeout (10 s).
	c.SetReadDeadline(time.Now().Add(testenv.Patience))
	for {
		var n uint16
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				res.closed = true
				return res, nil
			}
			return res, fmt.Errorf("reading a reply length: %w", err)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(c, msg); err != nil {
			return res, fmt.Errorf("reading a reply of %d octets: %w", n, err)
		}
		if n >= 2 && binary.BigEndian.Uint16(msg) == markerID {
			return res, nil
		}
		res.replies = append(res.replies, msg)
	}
}

// check compares res with want and returns what differs.
func (o outcome) check(network string, res result) []string {
	var errs []string
	if n := o.count(); len(res.replies) != n {
		errs = append(errs, fmt.Sprintf("%d replies, want %d", len(res.replies), o.count()))
	}
	if network == "tcp" {
		switch {
		case o.conn == connClosed && !res.closed:
			errs = append(errs, "connection kept open, want it closed")
		case o.conn == connOpen && res.closed:
			errs = append(errs, "connection closed, want it kept open")
		}
	}
	ids := map[uint16]bool{}
	for i, raw := range res.replies {
		r, err := amtrelayrr.UnpackMsg(raw)
		if err != nil {
			errs = append(errs, fmt.Sprintf("reply %d (%x) does not unpack: %v", i, raw, err))
			continue
		}
		ids[r.Id] = true
		if !r.Response {
			errs = append(errs, fmt.Sprintf("reply %d has QR clear", i))
		}
		if o.none {
			errs = append(errs, fmt.Sprintf("reply %d: %s", i, rcodeName(r.Rcode)))
			continue
		}
		if r.Rcode != o.rcode {
			errs = append(errs, fmt.Sprintf("reply %d: rcode %s, want %s", i, rcodeName(r.Rcode), rcodeName(o.rcode)))
		}
		for _, p := range o.props {
			if why := p.check(r); why != "" {
				errs = append(errs, fmt.Sprintf("reply %d: %s: %s", i, p.name, why))
			}
		}
	}
	if len(ids) != len(res.replies) {
		errs = append(errs, fmt.Sprintf("replies share IDs: %d IDs in %d replies", len(ids), len(res.replies)))
	}
	return errs
}

// hostileServers are the two servers the table is sent to: the static
// example, and the closest example for EDNS Client Subnet.
type hostileServers struct{ static, closest [2]string }

func (s hostileServers) addr(ecs bool, network string) string {
	a := s.static
	if ecs {
		a = s.closest
	}
	if network == "tcp" {
		return a[1]
	}
	return a[0]
}

// TestHostileQueries sends every row of the hostile-input table and checks
// the reply; after each, the server must still answer a good query, over
// UDP and TCP.
func TestHostileQueries(t *testing.T) {
	var s hostileServers
	s.static[0], s.static[1] = startCoreDNS(t, exampleCorefile(t, "static.corefile"))
	s.closest[0], s.closest[1] = startCoreDNS(t, prepareCorefile(t, exampleCorefile(t, "closest.corefile")))

	stillAnswers := func(t *testing.T, ecs bool) {
		t.Helper()
		for _, network := range both {
			m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
			r := query(t, network, s.addr(ecs, network), m)
			if got := relayStrings(t, r); r.Rcode != dns.RcodeSuccess || len(got) != 3 {
				t.Errorf("the server stopped answering over %s: %s %q", network, rcodeName(r.Rcode), got)
			}
		}
	}
	for _, hc := range hostileCases() {
		for _, network := range hc.nets {
			t.Run(network+"/"+hc.name, func(t *testing.T) {
				res, err := hc.send(network, s.addr(hc.ecs, network), func() { stillAnswers(t, hc.ecs) })
				if err != nil {
					t.Fatal(err)
				}
				want := hc.want
				if hc.departs != nil {
					want = hc.departs.got
				}
				for _, e := range want.check(network, res) {
					t.Errorf("%s (%s)", e, hc.rfc)
				}
				stillAnswers(t, hc.ecs)
			})
		}
	}
}

// TestHostileBIND sends the rows whose reply the RFCs leave open, and which
// therefore follow BIND 9, to BIND's named serving the same zone, and
// checks that named still answers as the table says (rcode, or silence).
func TestHostileBIND(t *testing.T) {
	zone := "$TTL 30\n@ SOA amt-dns.example.net. hostmaster.example.net. 1 7200 1800 1209600 30\n@ NS amt-dns.example.net.\n"
	for _, r := range rfc8777Relays {
		zone += "12 AMTRELAY " + r + "\n"
	}
	bind := testenv.StartNamed(t, map[string]string{"100.51.198.in-addr.arpa.": zone})
	for _, hc := range hostileCases() {
		if !strings.Contains(hc.rfc, "BIND") {
			continue
		}
		for _, network := range hc.nets {
			t.Run(network+"/"+hc.name, func(t *testing.T) {
				res, err := hc.send(network, bind, func() {})
				if err != nil {
					t.Fatal(err)
				}
				want := hc.want
				want.props = nil
				for _, e := range want.check(network, res) {
					t.Errorf("named: %s", e)
				}
			})
		}
	}
}

// TestReliabilityDocMatchesTable: test/RELIABILITY.md lists exactly the
// rows of the hostile-input table, in order, with the same transports,
// server, expected outcome and RFC.
func TestReliabilityDocMatchesTable(t *testing.T) {
	doc, err := os.ReadFile("RELIABILITY.md")
	if err != nil {
		t.Fatal(err)
	}
	// The rows of the table under its header, up to the first line that
	// is not a row.
	var got []string
	_, table, ok := strings.Cut(string(doc), "\n"+reliabilityHeader+"\n|---|---|---|---|---|\n")
	if !ok {
		t.Fatalf("RELIABILITY.md has no table headed %q", reliabilityHeader)
	}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		got = append(got, line)
	}
	var want []string
	for _, hc := range hostileCases() {
		want = append(want, hc.docRow())
	}
	if !slices.Equal(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("row %d:\n doc:   %s\n table: %s", i+1, g, w)
			}
		}
		t.Logf("the table as RELIABILITY.md should have it:\n%s", strings.Join(want, "\n"))
	}
	cases, sends := 0, 0
	for _, hc := range hostileCases() {
		cases++
		sends += len(hc.nets)
	}
	if counts := fmt.Sprintf("%d cases, %d sends", cases, sends); !strings.Contains(string(doc), counts) {
		t.Errorf("RELIABILITY.md does not say %q", counts)
	}
}

// reliabilityHeader heads the hostile-input table in RELIABILITY.md.
const reliabilityHeader = "| case | transport | server | expected | RFC |"

// docRow is hc as a row of the RELIABILITY.md table.
func (hc hostileCase) docRow() string {
	nets := make([]string, len(hc.nets))
	for i, n := range hc.nets {
		nets[i] = strings.ToUpper(n)
	}
	server := "static"
	if hc.ecs {
		server = "closest"
	}
	expected := hc.want.String()
	if hc.departs != nil {
		expected += fmt.Sprintf("; **this server: %s**, because %s", hc.departs.got, hc.departs.why)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |", hc.name, strings.Join(nets, ", "), server, expected, hc.rfc)
}
