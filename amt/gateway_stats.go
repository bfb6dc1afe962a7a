package amt

import "sync/atomic"

// GatewayStats are a Gateway's counters since it started.
type GatewayStats struct {
	// Data counts the Multicast Data messages of joined channels queued
	// for Read; Overflow those dropped because every buffer was taken.
	Data, Overflow uint64
	// Ignored counts datagrams not taken: not AMT, malformed, failing a
	// check, not awaited, oversized, or data of a channel not joined.
	Ignored uint64
	// Queries counts Membership Queries accepted; Requests and Updates
	// the messages sent, retransmissions included.
	Queries, Requests, Updates uint64
	// SentPackets and SentBytes count the UDP datagrams sent and their
	// payload octets; ReceivedPackets and ReceivedBytes those read.
	SentPackets, SentBytes, ReceivedPackets, ReceivedBytes uint64
}

type gatewayCounters struct {
	data, overflow, ignored, queries, requests, updates atomic.Uint64
	sentPackets, sentBytes, recvPackets, recvBytes      atomic.Uint64
}

// Stats returns the Gateway's counters.
func (g *Gateway) Stats() GatewayStats {
	c := &g.stats
	return GatewayStats{
		Data: c.data.Load(), Overflow: c.overflow.Load(), Ignored: c.ignored.Load(),
		Queries: c.queries.Load(), Requests: c.requests.Load(), Updates: c.updates.Load(),
		SentPackets: c.sentPackets.Load(), SentBytes: c.sentBytes.Load(),
		ReceivedPackets: c.recvPackets.Load(), ReceivedBytes: c.recvBytes.Load(),
	}
}
