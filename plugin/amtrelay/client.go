package amtrelay

import "net/netip"

// client is who a query is for: the ECS subnet's address, or the
// querying resolver's, and where the GeoIP database places it.
type client struct {
	addr netip.Addr
	// viaECS is set when addr came from the EDNS Client Subnet option.
	viaECS bool
	loc    location
	// lookedUp is set once loc has been looked up.
	lookedUp bool
	// unknownReason says why loc is unknown: "no_database" or
	// "not_in_database".
	unknownReason string
}

// locate looks the client up in the GeoIP database of geo, once.
func (c *client) locate(geo *geoDB) {
	if c.lookedUp {
		return
	}
	c.lookedUp = true
	db := geo.reader()
	if db == nil {
		c.unknownReason = "no_database"
		return
	}
	c.loc = db.lookup(c.addr)
	if !c.loc.known {
		c.unknownReason = "not_in_database"
	}
}

// ecsUse says, for metrics, whether the ECS option's address was used.
func (c *client) ecsUse() int {
	if c.viaECS {
		return ecsUseUsed
	}
	return ecsUseZeroSource
}
