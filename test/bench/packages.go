package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"
)

// requiredPackages are the Debian packages the selected scenarios need.
func requiredPackages(scenarios []Scenario) []string {
	pkgs := []string{"dnsperf", "util-linux"} // util-linux: taskset
	for _, s := range scenarios {
		switch s.Kind {
		case Gdnsd:
			pkgs = append(pkgs, "gdnsd")
		case PowerDNS:
			pkgs = append(pkgs, "pdns-server", "pdns-backend-geoip", "pdns-backend-bind")
		}
	}
	return pkgs
}

// ensurePackages installs the missing packages with apt-get when running
// as root, and stops the daemons Debian starts on install (the harness
// runs its own, on other ports); otherwise it names what to install.
func ensurePackages(pkgs []string) error {
	var missing []string
	for _, p := range pkgs {
		out, err := exec.Command("dpkg-query", "-W", "-f", "${Status}", p).Output()
		if err != nil || !strings.Contains(string(out), "install ok installed") {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	install := "apt-get install -y --no-install-recommends " + strings.Join(missing, " ")
	if os.Geteuid() != 0 {
		return fmt.Errorf("missing Debian packages: %s; install them (as root: %s) and run again", strings.Join(missing, ", "), install)
	}
	log.Printf("installing %s", strings.Join(missing, " "))
	for _, args := range [][]string{{"apt-get", "update", "-qq"}, strings.Fields(install)} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, tail(string(out)))
		}
	}
	for _, svc := range []string{"pdns", "gdnsd"} {
		exec.Command("systemctl", "stop", svc).Run() // best effort: no systemd, no daemon
	}
	return nil
}
