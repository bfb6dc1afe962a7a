package amt

import "encoding/binary"

// sum adds b to the running Internet checksum sum s, as big-endian 16-bit
// words, an odd last octet padded with a zero octet (RFC 1071 §4.1). Only
// the last slice summed may have an odd length. The carries are folded in
// by fold.
func sum(s uint64, b []byte) uint64 {
	for len(b) >= 8 {
		s += uint64(binary.BigEndian.Uint16(b)) + uint64(binary.BigEndian.Uint16(b[2:])) +
			uint64(binary.BigEndian.Uint16(b[4:])) + uint64(binary.BigEndian.Uint16(b[6:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// fold folds the carries of s into 16 bits (one's-complement addition).
func fold(s uint64) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// checksum is the Internet checksum of a running sum: the one's complement
// of the folded one's-complement sum (RFC 1071). Over data that includes a
// correct checksum field it is 0.
func checksum(s uint64) uint16 { return ^fold(s) }

// pseudoSum is the sum of the pseudo-header that UDP (RFC 768) and, over
// IPv6, ICMPv6 (RFC 4443 §2.3) checksums cover: the source and destination
// addresses, the upper-layer protocol and length. The IPv4 form is that of
// RFC 768, the IPv6 form that of RFC 8200 §8.1; the sum is the same for both
// layouts, as the zero octets add nothing.
func pseudoSum(src, dst []byte, proto uint8, length int) uint64 {
	s := sum(0, src)
	s = sum(s, dst)
	return s + uint64(proto) + uint64(length)&0xffff + uint64(length)>>16
}
