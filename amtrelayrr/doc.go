// Package amtrelayrr encodes and decodes the AMTRELAY resource record of
// RFC 8777 §4 (DNS type 260), for the amtrelay CoreDNS plugin and for the
// gatewayresolver library alike.
//
// It exists because github.com/miekg/dns v1.1.73 mishandles AMTRELAY records
// whose D-bit is set: (*dns.AMTRELAY).pack drops the relay field (10 1 1
// 203.0.113.15 packs as 0a81) and Msg.Unpack rejects a correct record with
// "dns: bad rdlength". This package is the one place that works around it:
//
//   - Relay.RR builds a *dns.RFC3597 with type 260 whose RDATA this package
//     packed, so miekg/dns sends the right bytes whatever the D-bit;
//   - UnpackMsg and Exchange read messages holding type-260 records by
//     handing them to miekg/dns as opaque RDATA, which Unpack decodes here.
//
// Presentation parsing and String are correct upstream, and Parse reuses
// miekg/dns's zone-file parser.
//
// The package imports only the standard library and miekg/dns.
package amtrelayrr
