package amtrelay

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/oschwald/geoip2-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2"
)

// defaultGeoIPReload is how often the GeoIP database file is checked for
// changes.
const defaultGeoIPReload = 5 * time.Second

// geoDB is a MaxMind-format City database (GeoIP2 or GeoLite2 City) that
// is reloaded when its file changes. A file that fails to load is logged
// and counted, and the last good database keeps serving. The database is
// read into memory, so a replaced file never pulls pages from under a
// lookup in flight.
type geoDB struct {
	path     string
	interval time.Duration
	// onLoad runs after each successful load, with the new database.
	onLoad func(*geoReader)

	current atomic.Pointer[geoReader]
	// lastErr is the last load error logged, so a file that stays bad is
	// logged once, not at every check.
	lastErr string
}

// geoReader is one loaded database and the file state it came from.
type geoReader struct {
	db      *geoip2.Reader
	modTime time.Time
	size    int64
}

// location is what the database says of an address: where it is, and the
// network the record covers, which is how far the answer may be shared
// (the ECS scope, RFC 7871 §7.2.1).
type location struct {
	p       point
	known   bool
	network netip.Prefix
}

// lookup returns the location of a. When the database has no coordinates
// for a, known is false but network still says which network that holds
// for.
func (r *geoReader) lookup(a netip.Addr) location {
	city, err := r.db.City(a)
	if err != nil || city == nil {
		return location{}
	}
	l := location{network: city.Traits.Network}
	if city.Location.Latitude == nil || city.Location.Longitude == nil {
		return l
	}
	if p, err := newPoint(*city.Location.Latitude, *city.Location.Longitude); err == nil {
		l.p, l.known = p, true
	}
	return l
}

// loadGeo reads and checks the database at path.
func loadGeo(path string) (*geoReader, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Verify the whole file first: a truncated or garbled data section
	// would otherwise surface as errors on lookups.
	mm, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("not a MaxMind database: %w", err)
	}
	if err := mm.Verify(); err != nil {
		return nil, fmt.Errorf("corrupt database: %w", err)
	}
	db, err := geoip2.OpenBytes(b)
	if err != nil {
		return nil, err
	}
	if _, err := db.City(netip.IPv6Unspecified()); err != nil {
		var invalid geoip2.InvalidMethodError
		if errors.As(err, &invalid) {
			return nil, fmt.Errorf("database type %q is not a City database", db.Metadata().DatabaseType)
		}
	}
	return &geoReader{db: db, modTime: fi.ModTime(), size: fi.Size()}, nil
}

// reader returns the database in use, or nil.
func (g *geoDB) reader() *geoReader {
	if g == nil {
		return nil
	}
	return g.current.Load()
}

// check loads the file if it changed since the last load. It reports
// whether a new database is in use.
func (g *geoDB) check() bool {
	cur := g.current.Load()
	if fi, err := os.Stat(g.path); err == nil && cur != nil && fi.ModTime().Equal(cur.modTime) && fi.Size() == cur.size {
		return false
	}
	r, err := loadGeo(g.path)
	if err != nil {
		if msg := err.Error(); msg != g.lastErr {
			g.lastErr = msg
			if cur != nil {
				log.Errorf("GeoIP database %s: %v; still serving the one loaded at %s", g.path, err, cur.modTime.Format(time.RFC3339))
			} else {
				log.Errorf("GeoIP database %s: %v; answering in the default (failover) order until it loads", g.path, err)
			}
		}
		geoipReloads.WithLabelValues("error").Inc()
		return false
	}
	g.lastErr = ""
	g.current.Store(r)
	geoipReloads.WithLabelValues("ok").Inc()
	log.Infof("GeoIP database %s loaded (%s, built %s)", g.path, r.db.Metadata().DatabaseType,
		time.Unix(int64(r.db.Metadata().BuildEpoch), 0).UTC().Format(time.RFC3339))
	if g.onLoad != nil {
		g.onLoad(r)
	}
	return true
}

// run checks the file every interval until ctx ends. The first load is
// done before: at setup, by assemble.
func (g *geoDB) run(ctx context.Context) {
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.check()
		}
	}
}

// ready is true: the database, or the error that it could not load, is
// there from setup on.
func (g *geoDB) ready() bool { return true }
