package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
)

// allocsBenchmark is the plugin's Go benchmark the allocations target is
// judged by: closest, 10,000 relays, ECS from 100,000 client subnets,
// answers written as bytes.
const allocsBenchmark = "BenchmarkServeDNSManySubnets/relays=10000/subnets=many/write=bytes"

// serveDNSAllocs runs allocsBenchmark in the checkout repo and returns its
// allocations per ServeDNS.
func serveDNSAllocs(repo string) (float64, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^"+allocsBenchmark+"$", "-benchtime", "20000x", "-benchmem", "./plugin/amtrelay/")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOFLAGS=-count=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", allocsBenchmark, err, tail(string(out)))
	}
	return parseAllocs(string(out))
}

var allocsLine = regexp.MustCompile(`(?m)^BenchmarkServeDNSManySubnets/relays=10000/subnets=many/write=bytes(-[0-9]+)?\s.*?\s([0-9.]+) allocs/op`)

// parseAllocs reads allocs/op from go test -bench -benchmem output.
func parseAllocs(out string) (float64, error) {
	m := allocsLine.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%s: no allocs/op in its output:\n%s", allocsBenchmark, tail(out))
	}
	return strconv.ParseFloat(m[2], 64)
}
