package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Machine describes where a run ran.
type Machine struct {
	CPU, Kernel, Go string
	CPUs            int
	Versions        []string // of dnsperf, gdnsd, PowerDNS
}

func describeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if out, err := exec.Command("lscpu").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(l, "Model name:"); ok {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	for _, pkg := range []string{"dnsperf", "gdnsd", "pdns-server"} {
		if out, err := exec.Command("dpkg-query", "-W", "-f", "${Package} ${Version}", pkg).Output(); err == nil {
			m.Versions = append(m.Versions, string(out))
		}
	}
	return m
}
