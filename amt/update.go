package amt

import "encoding/binary"

// updateHeaderLen is the size of a Membership Update before the
// encapsulated datagram: type, reserved, Response MAC, Request Nonce.
const updateHeaderLen = 12

// Update is a Membership Update (RFC 7450 §5.1.5): the gateway's IGMPv3 or
// MLDv2 report, authenticated by the Request Nonce and Response MAC copied
// from the last Membership Query (§5.2.3.6.2).
type Update struct {
	Nonce       uint32
	ResponseMAC [6]byte
	Report      Report
}

// Update returns a Membership Update answering q with report r: q's nonce
// and Response MAC, as RFC 7450 §5.2.3.6.2 requires.
func (q MembershipQuery) Update(r Report) Update {
	return Update{Nonce: q.Nonce, ResponseMAC: q.ResponseMAC, Report: r}
}

// Append appends the message to b, or returns b unchanged and an error
// wrapping ErrReport if the report cannot be encoded (see Report.Append).
func (u Update) Append(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, byte(TypeMembershipUpdate), 0)
	b = append(b, u.ResponseMAC[:]...)
	b = binary.BigEndian.AppendUint32(b, u.Nonce)
	b, err := u.Report.Append(b)
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// ParseUpdate decodes a Membership Update, as a relay or a test does. The
// reserved octet is ignored (§5.1.5.3), and so are octets after the
// encapsulated datagram (§5.3.3.4); the datagram is checked as ParseReport
// says. Checking the nonce and MAC is the relay's business (§5.3.3.4, §5.3.5).
func ParseUpdate(msg []byte) (Update, error) {
	if err := header(msg, TypeMembershipUpdate, updateHeaderLen); err != nil {
		return Update{}, err
	}
	u := Update{Nonce: binary.BigEndian.Uint32(msg[8:])}
	copy(u.ResponseMAC[:], msg[2:8])
	r, err := ParseReport(msg[updateHeaderLen:])
	if err != nil {
		return Update{}, err
	}
	u.Report = r
	return u, nil
}
