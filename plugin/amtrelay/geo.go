package amtrelay

import (
	"fmt"
	"math"
)

// earthRadiusKm is the mean Earth radius (IUGG), for great-circle
// distances.
const earthRadiusKm = 6371.0088

// point is a place on Earth, as its unit vector: comparing distances
// then needs only a dot product. Latitude and longitude, needed only to
// show a point, are derived from it.
type point struct {
	x, y, z float64
}

// newPoint returns the point at latitude lat and longitude lon, in
// degrees.
func newPoint(lat, lon float64) (point, error) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return point{}, fmt.Errorf("location %g %g is not a latitude in [-90, 90] and a longitude in [-180, 180]", lat, lon)
	}
	φ, λ := lat*math.Pi/180, lon*math.Pi/180
	return point{x: math.Cos(φ) * math.Cos(λ), y: math.Cos(φ) * math.Sin(λ), z: math.Sin(φ)}, nil
}

// latLon returns p's latitude and longitude, in degrees.
func (p point) latLon() (lat, lon float64) {
	return math.Asin(max(-1, min(1, p.z))) * 180 / math.Pi, math.Atan2(p.y, p.x) * 180 / math.Pi
}

// alignedPoint is a point in 32 octets: an array of them, as a
// database's locations are kept (dbPlaces), never splits one across two
// cache lines, so that placing a client reads one line.
type alignedPoint struct {
	point
	_ float64
}

// distanceKm is the great-circle distance between p and q, computed from
// the chord between their unit vectors (numerically sound at every
// distance, unlike acos of the dot product near 0), as nearIndex does.
func (p point) distanceKm(q point) float64 {
	return kmFromChord2(chord2([3]float64{p.x, p.y, p.z}, [3]float64{q.x, q.y, q.z}))
}
