package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// generatorVersion changes whenever the generators' output would: cached
// inputs of another version are made again.
const generatorVersion = 2

// Inputs are the generated files and built servers of a run.
type Inputs struct {
	World   *World
	DB      string
	Queries map[QueryFile]string
	Zone    string // the file plugin's zone file
	CoreDNS string // the repository's cmd/coredns
	Stock   string // stock CoreDNS, as pinned by the repository's go.mod
	Repo    string
	RepoRev string
}

// prepareInputs makes the database and query files in dir, unless a
// previous run left them there for the same sizes and seed, and builds
// both CoreDNS binaries from repo.
func prepareInputs(dir, repo string, sz Sizes, seed uint64, files []QueryFile) (*Inputs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	start := time.Now()
	w, err := NewWorld(sz, seed)
	if err != nil {
		return nil, err
	}
	in := &Inputs{World: w, DB: filepath.Join(dir, "city.mmdb"), Queries: map[QueryFile]string{}, Zone: filepath.Join(dir, "db."+seedZone), Repo: repo}
	stampPath := filepath.Join(dir, "inputs.stamp")
	stamp := fmt.Sprintf("generator %d seed %d sizes %+v\n", generatorVersion, seed, sz)
	for _, q := range files {
		in.Queries[q] = filepath.Join(dir, "queries-"+q.String()+".bin")
	}
	if old, err := os.ReadFile(stampPath); err != nil || string(old) != stamp || !allExist(in) {
		os.Remove(stampPath)
		log.Printf("writing the City database (%d networks over %d locations)...", len(w.Networks)+peerRelays, len(w.Locations))
		if err := w.WriteCityDB(in.DB); err != nil {
			return nil, fmt.Errorf("writing the City database: %w", err)
		}
		for q, path := range in.Queries {
			if err := w.WriteQueries(path, q, seed); err != nil {
				return nil, fmt.Errorf("writing %s: %w", path, err)
			}
		}
		if err := os.WriteFile(stampPath, []byte(stamp), 0o644); err != nil {
			return nil, err
		}
		log.Printf("inputs written in %v", time.Since(start).Round(time.Second))
	} else {
		log.Printf("inputs in %s are current (%s)", dir, strings.TrimSpace(stamp))
	}
	if err := os.WriteFile(in.Zone, []byte(fileZone()), 0o644); err != nil {
		return nil, err
	}
	in.CoreDNS = filepath.Join(dir, "coredns-amtrelay")
	in.Stock = filepath.Join(dir, "coredns-stock")
	log.Printf("building %s/cmd/coredns and stock CoreDNS...", repo)
	if err := goBuild(repo, in.CoreDNS, "./cmd/coredns"); err != nil {
		return nil, err
	}
	if err := goBuild(repo, in.Stock, "github.com/coredns/coredns"); err != nil {
		return nil, err
	}
	if b, err := exec.Command("git", "-C", repo, "describe", "--always", "--dirty", "--abbrev=12").Output(); err == nil {
		in.RepoRev = strings.TrimSpace(string(b))
	}
	return in, nil
}

func allExist(in *Inputs) bool {
	for _, p := range append([]string{in.DB}, mapValues(in.Queries)...) {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

func mapValues(m map[QueryFile]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// goBuild builds pkg in the module at dir into out.
func goBuild(dir, out, pkg string) error {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s: %v\n%s", pkg, dir, err, b)
	}
	return nil
}
