package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryFuzzTargetRunsInCI: .ci/run fuzzes every fuzz target of the
// repository, in its package.
func TestEveryFuzzTargetRunsInCI(t *testing.T) {
	ci, err := os.ReadFile(filepath.Join("..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	fuzz := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)
	n := 0
	err = filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzz.FindAllStringSubmatch(string(b), -1) {
			n++
			want := m[1] + " ./" + filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, "../")))
			if !strings.Contains(string(ci), `"`+want+`"`) {
				t.Errorf(".ci/run does not fuzz %s", want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("found %d fuzz targets, want at least the 5 the project has", n)
	}
}

// TestEveryNestedModuleRunsInCI: `go test ./...` at the root skips
// directories with a go.mod of their own (test/bench keeps its plotting
// library out of the plugin's dependencies), so .ci/run must enter each
// of them and run its tests there.
func TestEveryNestedModuleRunsInCI(t *testing.T) {
	ci, err := os.ReadFile(filepath.Join("..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" || path == filepath.Join("..", "go.mod") {
			return nil
		}
		n++
		dir := filepath.ToSlash(strings.TrimPrefix(filepath.Dir(path), "../"))
		if !regexp.MustCompile(`(?m)^\s*cd ` + regexp.QuoteMeta(dir) + `\s*$(\n.*){0,3}\n\s*go test `).Match(ci) {
			t.Errorf(".ci/run does not cd %s and run go test there", dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("found no nested module; test/bench has one")
	}
}
