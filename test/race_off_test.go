//go:build !race

package test

// raceEnabled says whether the tests run with the race detector.
const raceEnabled = false
