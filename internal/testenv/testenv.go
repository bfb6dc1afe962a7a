// Package testenv holds what the project's tests share about their
// environment: which external tools they need, and how a missing one is
// handled. Locally a test skips with a message; when CI=true it fails, so CI
// never passes by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t with why, or fails it when running under CI.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: .ci/run must provide it)", why)
	}
	t.Skipf("%s; skipping (set CI=true to make this fail)", why)
}

// LookPath returns the path of the program name, looking in PATH and in the
// sbin directories Debian installs servers to. When it is missing, it skips
// t, or fails it under CI, naming the Debian package that provides it.
func LookPath(t testing.TB, name, debianPackage string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Unavailable(t, name+" not found (Debian package "+debianPackage+")")
	return ""
}

// RequireRoot skips t, or fails it under CI, unless it runs as root, as
// tests that make network namespaces must.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "this test needs root")
	}
}
