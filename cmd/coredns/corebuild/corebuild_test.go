package corebuild

import (
	"slices"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
)

func TestAMTRelayBeforeFile(t *testing.T) {
	i := slices.Index(dnsserver.Directives, Plugin)
	if i < 0 || dnsserver.Directives[i+1] != Before {
		t.Fatalf("directives around %q: %v", Plugin, dnsserver.Directives)
	}
	if n := len(slices.DeleteFunc(slices.Clone(dnsserver.Directives), func(d string) bool { return d != Plugin })); n != 1 {
		t.Errorf("%q appears %d times", Plugin, n)
	}
}

func TestInsertBefore(t *testing.T) {
	got, err := insertBefore([]string{"a", "file", "b"}, "x", "file")
	if err != nil || !slices.Equal(got, []string{"a", "x", "file", "b"}) {
		t.Errorf("insertBefore = %v, %v", got, err)
	}
	if again, _ := insertBefore(got, "x", "file"); !slices.Equal(again, got) {
		t.Errorf("second insert = %v", again)
	}
	if _, err := insertBefore([]string{"a"}, "x", "file"); err == nil {
		t.Error("missing anchor accepted")
	}
}
