package amt

import (
	"encoding/binary"
	"time"
)

// Defaults that IGMPv3 and MLDv2 use when a query leaves a field zero.
const (
	// defaultRobustness is the Robustness Variable (RFC 3376 §8.1, RFC
	// 3810 §9.1), used when QRV is 0 (RFC 3376 §4.1.6).
	defaultRobustness = 2
	// defaultQueryInterval is the Query Interval (RFC 3376 §8.2, RFC 3810
	// §9.2), used when QQIC is 0 (RFC 3376 §4.1.7).
	defaultQueryInterval = 125 * time.Second
)

// QueryInterval is the Querier's Query Interval of the General Query that
// q carries (RFC 3376 §4.1.7, RFC 3810 §5.1.9): the time after which a
// gateway sends its next Request to refresh its membership in the relay
// (RFC 7450 §5.2.3.5.4, §4.2.1.2 step 3). A QQIC of 0 stands for the
// default Query Interval, 125 s (RFC 3376 §8.2).
func (q MembershipQuery) QueryInterval() time.Duration {
	_, qqic := q.queryFields()
	if qqic == 0 {
		return defaultQueryInterval
	}
	return time.Duration(decodeInterval(qqic)) * time.Second
}

// Robustness is the Querier's Robustness Variable of the General Query
// that q carries (RFC 3376 §4.1.6, RFC 3810 §5.1.8): how many times a
// gateway sends each unsolicited state-change report (RFC 7450 §5.2.1,
// RFC 3376 §5.1). A QRV of 0 stands for the default, 2 (RFC 3376 §8.1).
func (q MembershipQuery) Robustness() int {
	qrv, _ := q.queryFields()
	if qrv == 0 {
		return defaultRobustness
	}
	return int(qrv)
}

// decodeInterval decodes the QQIC of RFC 3376 §4.1.7 and RFC 3810 §5.1.9:
// below 128 the value itself; else a floating-point value 1|exp|mant,
// (mant | 0x10) << (exp + 3).
func decodeInterval(code uint8) int {
	if code < 128 {
		return int(code)
	}
	exp, mant := int(code>>4&0x07), int(code&0x0f)
	return (mant | 0x10) << (exp + 3)
}

// queryFields returns QRV and QQIC of q's General Query, or zeros if it is
// not one ParseMembershipQuery would accept.
func (q MembershipQuery) queryFields() (qrv, qqic uint8) {
	b := q.GeneralQuery
	switch {
	case checkIGMPv3Query(b) == nil:
		igmp := b[int(b[0]&0x0f)*4:]
		return igmp[8] & 0x07, igmp[9] // RFC 3376 §4.1: Resv|S|QRV, QQIC
	case checkMLDv2Query(b) == nil:
		// The Hop-by-Hop headers checkMLDv2Query walked.
		next, rest := b[6], b[ipv6HeaderLen:ipv6HeaderLen+int(binary.BigEndian.Uint16(b[4:]))]
		for next == protoHopByHop {
			next, rest = rest[0], rest[(int(rest[1])+1)*8:]
		}
		return rest[24] & 0x07, rest[25] // RFC 3810 §5.1: Resv|S|QRV, QQIC
	}
	return 0, 0
}
