//go:build !linux

package amtrelay

// lowerThreadPriority changes nothing where nice values are per process.
func lowerThreadPriority() func() bool { return nil }
