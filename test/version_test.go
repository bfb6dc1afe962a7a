package test

import (
	"os/exec"
	"regexp"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// TestVersionReported: the built coredns and amtdiscover say which amtrelay
// they carry, with the VCS revision when built from a checkout, and
// coredns -plugins lists the plugin.
func TestVersionReported(t *testing.T) {
	// "(devel)" in a working tree with changes; a pseudo-version from the
	// VCS in a clean checkout; then the revision when Go stamped one.
	rev := regexp.MustCompile(`(\(devel\)|v\S+)( [0-9a-f]{12}(\+dirty)?)?`)
	out, err := exec.Command(testenv.Build(t, "github.com/amtrelay/amtrelay/cmd/coredns"), "-version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^github.com/amtrelay/amtrelay `+rev.String()+`$`).Match(out) {
		t.Errorf("coredns -version: %v\n%s", err, out)
	}
	out, err = exec.Command(testenv.Build(t, "github.com/amtrelay/amtrelay/cmd/coredns"), "-plugins").CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^\s*amtrelay$`).Match(out) {
		t.Errorf("coredns -plugins does not list amtrelay: %v\n%s", err, out)
	}
	out, err = exec.Command(testenv.Build(t, "github.com/amtrelay/amtrelay/cmd/amtdiscover"), "-version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`^amtdiscover `+rev.String()+`\n$`).Match(out) {
		t.Errorf("amtdiscover -version: %v\n%s", err, out)
	}
}
