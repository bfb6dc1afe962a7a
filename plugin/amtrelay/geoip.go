package amtrelay

import (
	"context"
	"errors"
	"fmt"
	"math"
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
	// failed is the state of the last file that failed to load, so that a
	// file that stays bad is logged and counted once, and every new bad
	// file is.
	failed    fileState
	hasFailed bool
}

// fileState tells one version of a file from another.
type fileState struct {
	modTime time.Time
	size    int64
	missing bool
}

func statFile(path string) fileState {
	fi, err := os.Stat(path)
	if err != nil {
		return fileState{missing: true}
	}
	return fileState{modTime: fi.ModTime(), size: fi.Size()}
}

// geoReader is one loaded database and the file state it came from.
type geoReader struct {
	db *geoip2.Reader
	// mmdb reads the same bytes for lookups: decoding only the
	// coordinates, rather than geoip2's whole City record, costs a query
	// no allocation.
	mmdb *maxminddb.Reader
	file fileState
	// places numbers the database's locations, once built (scope.go).
	places atomic.Pointer[dbPlaces]
}

// location is what the database says of an address: where it is, and the
// network the record covers, which is how far the answer may be shared
// (the ECS scope, RFC 7871 §7.2.1).
type location struct {
	// p is where the client is, unless numbered is set: then it is the
	// point of place in numbered, read only by a query that needs it
	// (point). A query answered from a location's list of relays
	// (locationlists.go) does not, and reads one cache line fewer.
	p        point
	numbered *dbPlaces
	known    bool
	network  netip.Prefix
	// db is the database that said so, and place the number of the
	// location in it plus one (dbPlaces; 0 when not numbered).
	db    *geoReader
	place int32
	// number is the number of the network among the database's plus one,
	// when the flat index found it (networkindex.go), else 0; then
	// scopeBits is the length of the merged prefix that holds the network
	// in scopes, the table the index holds lengths of (nil for none).
	number    int32
	scopeBits uint8
	scopes    *scopeTable
}

// point returns where a known location is.
func (l *location) point() point {
	if l.numbered != nil {
		return l.numbered.points[l.place-1].point
	}
	return l.p
}

// lookup returns the location of a. When the database has no coordinates
// for a, known is false but network still says which network that holds
// for.
func (r *geoReader) lookup(a netip.Addr) location {
	pl := r.places.Load()
	if pl != nil && pl.networks != nil {
		if f, ok := pl.networks.find(a); ok {
			l := location{network: f.network, db: r, number: f.number + 1, scopeBits: f.wide, scopes: pl.networks.scopes}
			if f.location >= 0 {
				l.numbered, l.known, l.place = pl, true, f.location+1
			}
			return l
		}
	}
	return r.lookupTree(a, pl)
}

// lookupTree is lookup by the database's search tree, with places when
// they are built.
func (r *geoReader) lookupTree(a netip.Addr, pl *dbPlaces) location {
	res := r.mmdb.Lookup(a)
	if res.Err() != nil {
		return location{}
	}
	// Not found, the network is the empty one around a.
	l := location{network: res.Prefix(), db: r}
	if !res.Found() {
		return l
	}
	if pl != nil {
		if id, ok := pl.byRecord[res.Offset()]; ok {
			if id >= 0 {
				l.p, l.known, l.place = pl.points[id].point, true, id+1
			}
			return l
		}
	}
	var rec cityCoordinates
	rec.Location.Latitude, rec.Location.Longitude = math.NaN(), math.NaN()
	if err := res.Decode(&rec); err != nil {
		return l
	}
	if p, err := newPoint(rec.Location.Latitude, rec.Location.Longitude); err == nil {
		l.p, l.known = p, true
	}
	return l
}

// cityCoordinates is the part of a City record (GeoIP2 and GeoLite2 City
// format) that a lookup reads. A coordinate the record lacks stays NaN.
type cityCoordinates struct {
	Location struct {
		Latitude  float64 `maxminddb:"latitude"`
		Longitude float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
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
	if err := verifyGeo(b); err != nil {
		return nil, err
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
	mmdb, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, err
	}
	return &geoReader{db: db, mmdb: mmdb, file: fileState{modTime: fi.ModTime(), size: fi.Size()}}, nil
}

// verifyGeo checks the whole file before it is used: a truncated or
// garbled search tree or data section would otherwise surface as errors
// on lookups. maxminddb-golang's Verify also insists on a metadata
// description, which the MaxMind DB format does not require (MaxMind's own
// readers say it "may be undefined", and libmaxminddb, gdnsd and PowerDNS
// load such files). Verify is run with a stand-in description for a file
// that has none, so that every other check still applies: this is the one
// place that works around it.
func verifyGeo(b []byte) error {
	mm, err := maxminddb.OpenBytes(b)
	if err != nil {
		return fmt.Errorf("not a MaxMind database: %w", err)
	}
	if len(mm.Metadata.Description) == 0 {
		mm.Metadata.Description = map[string]string{"en": "(none)"}
	}
	if err := mm.Verify(); err != nil {
		return fmt.Errorf("corrupt database: %w", err)
	}
	return nil
}

// reader returns the database in use, or nil.
func (g *geoDB) reader() *geoReader {
	if g == nil {
		return nil
	}
	return g.current.Load()
}

// check loads the file if it changed since the last load. It reports
// whether a new database is in use. Every file that fails to load is
// logged and counted once; the last good database keeps serving.
func (g *geoDB) check() bool {
	cur := g.current.Load()
	st := statFile(g.path)
	if (cur != nil && st == cur.file) || (g.hasFailed && st == g.failed) {
		return false
	}
	r, shared := sharedReader(g.path, st), true
	var err error
	if r == nil {
		r, err = loadGeo(g.path)
		shared = false
	}
	if err != nil {
		g.failed, g.hasFailed = st, true
		if cur != nil {
			log.Errorf("GeoIP database %s: %v; still serving the one loaded at %s", g.path, err, cur.file.modTime.Format(time.RFC3339))
		} else {
			log.Errorf("GeoIP database %s: %v; answering in the default (failover) order until it loads", g.path, err)
		}
		geoipReloads.WithLabelValues("error").Inc()
		geoipLoadErrors.Inc()
		return false
	}
	g.hasFailed = false
	g.current.Store(r)
	geoipReloads.WithLabelValues("ok").Inc()
	how := "loaded"
	if shared {
		how = "unchanged, already loaded"
	} else {
		shareReader(g.path, r)
	}
	log.Infof("GeoIP database %s %s (%s, built %s)", g.path, how, r.db.Metadata().DatabaseType,
		time.Unix(int64(r.db.Metadata().BuildEpoch), 0).UTC().Format(time.RFC3339))
	if g.onLoad != nil {
		g.onLoad(r)
	}
	return true
}

// run checks the file every interval until ctx ends. The first load is
// done before: at setup, by assemble.
func (g *geoDB) run(ctx context.Context) {
	geoAges.add(g)
	defer geoAges.remove(g)
	every(ctx, g.interval, func() { g.check() })
}

// ready is true: the database, or the error that it could not load, is
// there from setup on.
func (g *geoDB) ready() bool { return true }
