package amtrelay

import (
	"hash/fnv"
	"strconv"

	"github.com/coredns/caddy"
)

// configSerial is the default SOA serial of a server block's zones: a
// hash (FNV-1a, 32 bits) of the block's keys and of the amtrelay
// directive's tokens, line by line. Every instance that runs the same
// Corefile gets the same serial, whenever it started; any change to the
// directive (not to comments or white space) changes it. A hash changes,
// but does not grow: by RFC 1982 §3.2 arithmetic the new serial is
// "greater" than the old about half the time. Nothing of this plugin
// compares serials (it has no zone transfer, and the answers are
// synthesized), but an operator whose tools do sets `serial N` and raises
// it with each change.
func configSerial(c *caddy.Controller) uint32 {
	h := fnv.New32a()
	for _, k := range c.ServerBlockKeys {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	d := c.Dispenser // a copy: reading it moves nothing in c
	line := -1
	for d.Next() {
		if d.Line() != line {
			line = d.Line()
			h.Write([]byte{'\n'})
		}
		h.Write([]byte(d.Val()))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

// parseSerial reads `serial N`: an explicit SOA serial, 0 to 4294967295
// (RFC 1035 §3.3.13, an unsigned 32-bit number).
func (cfg *config) parseSerial(c *caddy.Controller) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return c.ArgErr()
	}
	n, err := strconv.ParseUint(args[0], 10, 32)
	if err != nil {
		return c.Errf("serial '%s' must be a number from 0 to 4294967295, such as 2026120101", args[0])
	}
	s := uint32(n)
	cfg.serial = &s
	return nil
}
