package amt

import (
	"fmt"
	"net/netip"
)

// Channel is a source-specific multicast channel (S,G) (RFC 4607 §1): the
// datagrams that source Source sends to group Group.
type Channel struct {
	Source, Group netip.Addr
}

func (c Channel) String() string { return fmt.Sprintf("(%v,%v)", c.Source, c.Group) }

// check reports why c cannot be joined with IGMPv3 (IPv4) or, with mld,
// MLDv2 (IPv6): S must be a unicast address and G a multicast group of
// that family. IPv4-mapped addresses count as IPv4.
func (c Channel) check(mld bool) error {
	switch {
	case !isGroup(c.Group, mld):
		return fmt.Errorf("%w: %v is not an %s multicast group", ErrChannel, c.Group, family(mld))
	case !isFamily(c.Source, mld) || c.Source.IsMulticast() || c.Source.IsUnspecified():
		return fmt.Errorf("%w: source %v is not an %s unicast address", ErrChannel, c.Source, family(mld))
	}
	return nil
}

// norm writes IPv4-mapped addresses as IPv4, the form ParseData returns.
func (c Channel) norm() Channel {
	if c.Group.Is4In6() || c.Source.Is4In6() {
		return Channel{c.Source.Unmap(), c.Group.Unmap()}
	}
	return c
}
