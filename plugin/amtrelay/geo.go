package amtrelay

import (
	"fmt"
	"math"
)

// earthRadiusKm is the mean Earth radius (IUGG), for great-circle
// distances.
const earthRadiusKm = 6371.0088

// point is a place on Earth. Its unit vector is kept so that comparing
// distances needs only a dot product.
type point struct {
	lat, lon float64
	x, y, z  float64
}

// newPoint returns the point at latitude lat and longitude lon, in
// degrees.
func newPoint(lat, lon float64) (point, error) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return point{}, fmt.Errorf("location %g %g is not a latitude in [-90, 90] and a longitude in [-180, 180]", lat, lon)
	}
	φ, λ := lat*math.Pi/180, lon*math.Pi/180
	return point{lat: lat, lon: lon, x: math.Cos(φ) * math.Cos(λ), y: math.Cos(φ) * math.Sin(λ), z: math.Sin(φ)}, nil
}

// cosAngle is the cosine of the central angle between p and q: larger is
// nearer. It orders points by distance without trigonometry.
func (p point) cosAngle(q point) float64 { return p.x*q.x + p.y*q.y + p.z*q.z }

// distanceKm is the great-circle distance between p and q, computed from
// the chord between their unit vectors (numerically sound at every
// distance, unlike acos of the dot product near 0).
func (p point) distanceKm(q point) float64 {
	dx, dy, dz := p.x-q.x, p.y-q.y, p.z-q.z
	chord := math.Sqrt(dx*dx + dy*dy + dz*dz)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, chord/2))
}
