package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// The operations kit in contrib/: Prometheus alerting rules and their unit
// tests, a Grafana dashboard and a systemd unit.
var (
	contribAlerts     = filepath.Join("..", "contrib", "prometheus", "alerts.yml")
	contribAlertTests = filepath.Join("..", "contrib", "prometheus", "alerts_test.yml")
	contribDashboard  = filepath.Join("..", "contrib", "grafana", "amtrelay.json")
	contribUnit       = filepath.Join("..", "contrib", "systemd", "coredns-amtrelay.service")
)

// TestAlertRules: every alert has unit tests that see it fire and not
// fire; promtool accepts the rules and their unit tests pass; and every
// query of the dashboard parses as PromQL.
func TestAlertRules(t *testing.T) {
	t.Run("every rule tested", func(t *testing.T) {
		rules := contribAlertRules(t)
		tests := contribRead(t, contribAlertTests)
		firing, quiet := map[string]bool{}, map[string]bool{}
		// Each alert_rule_test entry names its alert, then its exp_alerts:
		// "[]" when none fires.
		entry := regexp.MustCompile(`(?m)^\s*(?:- )?alertname:\s*(\S+)\s*\n(?:.*\n)*?\s*exp_alerts:\s*(\S*)`)
		for _, m := range entry.FindAllStringSubmatch(tests, -1) {
			if m[2] == "[]" {
				quiet[m[1]] = true
			} else {
				firing[m[1]] = true
			}
		}
		for _, r := range rules {
			if !firing[r.name] {
				t.Errorf("alerts_test.yml has no test in which %s fires", r.name)
			}
			if !quiet[r.name] {
				t.Errorf("alerts_test.yml has no test in which %s does not fire", r.name)
			}
		}
	})

	promtool := testenv.LookPath(t, "promtool", "prometheus")
	promtoolRun := func(t *testing.T, dir string, args ...string) {
		t.Helper()
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	dir := filepath.Dir(contribAlerts)
	t.Run("check rules", func(t *testing.T) { promtoolRun(t, dir, "check", "rules", filepath.Base(contribAlerts)) })
	t.Run("test rules", func(t *testing.T) { promtoolRun(t, dir, "test", "rules", filepath.Base(contribAlertTests)) })

	// promtool parses PromQL only in rule files: the dashboard's queries,
	// with Grafana's variables replaced, become recording rules.
	t.Run("dashboard queries parse", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
		for i, q := range contribDashboardQueries(t) {
			expr := contribGrafanaVar.ReplaceAllStringFunc(q.expr, func(v string) string {
				switch strings.Trim(v, "${}") {
				case "__rate_interval", "__interval", "__range":
					return "5m"
				}
				return ".*" // the dashboard's variables are all regex matchers
			})
			quoted, _ := json.Marshal(expr) // a JSON string is a YAML double-quoted scalar
			fmt.Fprintf(&b, "      - record: dashboard:query_%d\n        expr: %s\n", i, quoted)
		}
		path := filepath.Join(t.TempDir(), "dashboard.yml")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		promtoolRun(t, filepath.Dir(path), "check", "rules", filepath.Base(path))
	})
}

// TestAlertsAndDashboardUseDocumentedMetrics: the alerts and the dashboard
// name only documented metrics (the plugin README's ## Metrics for
// coredns_amtrelay_*, CoreDNS's prometheus and reload READMEs for the
// rest), and use only the labels documented for each: in matchers, in
// by/without/on/ignoring, in label_values, and in the {{ $labels.X }} of
// alert annotations and the {{X}} of legends, which must survive the
// query's aggregation. The dashboard is a Grafana JSON model whose panels
// all have queries, on the ${DS_PROMETHEUS} data source.
func TestAlertsAndDashboardUseDocumentedMetrics(t *testing.T) {
	docs := contribDocumentedMetrics(t)

	alerts := contribRead(t, contribAlerts)
	contribCheckNames(t, "alerts.yml", alerts, docs)
	contribCheckSelectors(t, "alerts.yml", alerts, docs)
	rules := contribAlertRules(t)
	if len(rules) < 9 {
		t.Errorf("alerts.yml has %d alerts, want at least 9", len(rules))
	}
	for _, r := range rules {
		where := "alerts.yml " + r.name
		contribCheckExpr(t, where, r.expr, docs)
		for _, m := range regexp.MustCompile(`\{\{\s*\$labels\.(\w+)\s*\}\}`).FindAllStringSubmatch(r.annotations, -1) {
			contribCheckOutputLabel(t, where, r.expr, m[1], docs)
		}
		for _, want := range []string{"severity:", "summary:", "description:"} {
			if !strings.Contains(r.annotations, want) {
				t.Errorf("%s has no %s", where, strings.TrimSuffix(want, ":"))
			}
		}
	}

	raw := contribRead(t, contribDashboard)
	contribCheckNames(t, "amtrelay.json", raw, docs)
	var dash contribDash
	if err := json.Unmarshal([]byte(raw), &dash); err != nil {
		t.Fatalf("amtrelay.json: %v", err)
	}
	if dash.SchemaVersion < 36 {
		t.Errorf("amtrelay.json schemaVersion %d, want a Grafana 10+ model (36 or later)", dash.SchemaVersion)
	}
	hasInput := false
	for _, in := range dash.Inputs {
		hasInput = hasInput || (in.Name == "DS_PROMETHEUS" && in.PluginID == "prometheus")
	}
	if !hasInput {
		t.Error("amtrelay.json has no DS_PROMETHEUS input for a Prometheus data source")
	}
	vars := map[string]bool{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = true
		if v.Type != "query" {
			continue
		}
		q, ok := v.Query.(string)
		if !ok {
			t.Errorf("amtrelay.json variable %s: query is not a string", v.Name)
			continue
		}
		m := regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`).FindStringSubmatch(q)
		if m == nil {
			t.Errorf("amtrelay.json variable %s: %q is not label_values(METRIC, LABEL)", v.Name, q)
			continue
		}
		contribCheckSelectors(t, "amtrelay.json variable "+v.Name, m[1], docs)
		for _, name := range contribMetricRE.FindAllString(m[1], -1) {
			if labels, ok := docs.labels(name); ok && !labels[m[2]] {
				t.Errorf("amtrelay.json variable %s: %s has no label %s", v.Name, name, m[2])
			}
		}
	}
	if !vars["server"] {
		t.Error("amtrelay.json has no server variable")
	}
	queries := contribDashboardQueries(t)
	used := map[string]bool{}
	for _, q := range queries {
		where := fmt.Sprintf("amtrelay.json panel %q", q.panel)
		if q.datasource != "${DS_PROMETHEUS}" {
			t.Errorf("%s: data source %q, want ${DS_PROMETHEUS}", where, q.datasource)
		}
		contribCheckSelectors(t, where, q.expr, docs)
		contribCheckExpr(t, where, q.expr, docs)
		for _, m := range regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`).FindAllStringSubmatch(q.legend, -1) {
			contribCheckOutputLabel(t, where+" legend", q.expr, m[1], docs)
		}
		for _, v := range contribGrafanaVar.FindAllString(q.expr, -1) {
			if name := strings.Trim(v, "${}"); !strings.HasPrefix(name, "__") && !vars[name] {
				t.Errorf("%s: variable %s is not defined", where, v)
			}
		}
		for _, name := range contribMetricRE.FindAllString(q.expr, -1) {
			used[name] = true
		}
	}
	for _, name := range []string{
		"coredns_amtrelay_answers_total", "coredns_amtrelay_relay_up", "coredns_amtrelay_probe_duration_seconds_bucket",
		"coredns_amtrelay_fallbacks_total", "coredns_amtrelay_ecs_queries_total",
		"coredns_amtrelay_location_unknown_share", "coredns_amtrelay_reloads_rejected_total",
	} {
		if !used[name] {
			t.Errorf("amtrelay.json has no panel on %s", name)
		}
	}
}

// TestSystemdUnit: systemd-analyze verify accepts the unit, run with
// the custom build, with no warning about it; its sandbox keeps its
// exposure score low; and it has the settings contrib/README.md promises.
func TestSystemdUnit(t *testing.T) {
	unit := contribRead(t, contribUnit)
	for _, want := range []string{
		"ExecStart=/usr/local/bin/coredns -conf /etc/coredns/Corefile\n",
		"ExecReload=/bin/kill -USR1 $MAINPID\n",
		"DynamicUser=yes\n",
		"AmbientCapabilities=CAP_NET_BIND_SERVICE\n",
		"CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n",
		"NoNewPrivileges=yes\n",
		"ProtectSystem=strict\n",
		"ReadOnlyPaths=/etc/coredns\n",
		"LimitNOFILE=",
		"Restart=on-failure\n",
	} {
		if !strings.Contains(unit, "\n"+want) {
			t.Errorf("the unit has no %q", strings.TrimSpace(want))
		}
	}
	// /proc/stat, which ProcSubset=pid hides, gives the Prometheus process
	// collector the boot time; without it every /metrics scrape fails.
	if strings.Contains(unit, "\nProcSubset=pid") {
		t.Error("the unit has ProcSubset=pid: the prometheus plugin's /metrics would fail")
	}

	analyze := testenv.LookPath(t, "systemd-analyze", "systemd")
	bin := testenv.Build(t, "github.com/amtrelay/amtrelay/cmd/coredns")
	const name = "coredns-amtrelay.service"
	path := filepath.Join(t.TempDir(), name)
	// verify wants ExecStart's program to exist: the one just built.
	local := strings.Replace(unit, "\nExecStart=/usr/local/bin/coredns ", "\nExecStart="+bin+" ", 1)
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("verify", func(t *testing.T) {
		// --recursive-errors=no: the exit status reflects this unit only,
		// not the units it names (network-online.target, multi-user.target).
		// --man=no: the unit names no man page, and containers often lack man.
		out, err := exec.Command(analyze, "verify", "--man=no", "--recursive-errors=no", path).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
		// verify also prints the warnings of every unit file it loads, and
		// in a container those of the distribution's units (obsolete
		// settings, missing binaries) are not this unit's: a line that
		// names another unit file is logged. Any other line fails.
		other := regexp.MustCompile(`^(?:/\S*/)?[\w@.\\-]+\.(?:service|socket|target|mount|automount|swap|path|timer|slice|scope|device)(?::\d+)?: `)
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line == "" {
				continue
			}
			if other.MatchString(line) && !strings.Contains(line, name) && !strings.Contains(line, path) && !strings.Contains(line, bin) {
				t.Logf("not about this unit, ignored: %s", line)
				continue
			}
			t.Errorf("systemd-analyze verify: %s", line)
		}
	})

	t.Run("exposure", func(t *testing.T) {
		// --threshold is ten times the "overall exposure level" printed
		// (0 to 10; the unit scores 1.5 with systemd 252). Above 2.5 a
		// sandbox setting was lost.
		out, err := exec.Command(analyze, "security", "--offline=yes", "--threshold=25", path).CombinedOutput()
		if err != nil {
			// The settings that count against it, and the score.
			var lost []string
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "✗") || strings.Contains(line, "Overall exposure") || strings.Contains(line, name) {
					lost = append(lost, strings.TrimSpace(line))
				}
			}
			t.Errorf("systemd-analyze security: %v\n%s", err, strings.Join(lost, "\n"))
		}
	})
}

// contribRule is an alerting rule of alerts.yml: its name, its expression,
// and the rest of its text (labels and annotations).
type contribRule struct{ name, expr, annotations string }

// contribAlertRules reads the alerting rules of alerts.yml. It reads the
// layout alerts.yml has (a rule starts with "- alert:", its expr is one
// line or a block scalar), without a YAML package: promtool checks the
// YAML itself.
func contribAlertRules(t *testing.T) []contribRule {
	t.Helper()
	lines := strings.Split(contribRead(t, contribAlerts), "\n")
	start := regexp.MustCompile(`^(\s*)- (alert|record):\s*(\S+)`)
	exprRE := regexp.MustCompile(`^(\s*)expr:\s*(.*)$`)
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	var rules []contribRule
	for i := 0; i < len(lines); i++ {
		m := start.FindStringSubmatch(lines[i])
		if m == nil || m[2] != "alert" {
			continue
		}
		r := contribRule{name: m[3]}
		var rest []string
		j := i + 1
		for ; j < len(lines); j++ {
			l := lines[j]
			if strings.TrimSpace(l) != "" && indent(l) <= len(m[1]) {
				break // the next rule, or the next group
			}
			e := exprRE.FindStringSubmatch(l)
			if e == nil {
				rest = append(rest, l)
				continue
			}
			switch v := strings.TrimSpace(e[2]); {
			case v == "|" || v == "|-" || v == ">" || v == ">-":
				var body []string
				for j+1 < len(lines) && (strings.TrimSpace(lines[j+1]) == "" || indent(lines[j+1]) > len(e[1])) {
					j++
					body = append(body, strings.TrimSpace(lines[j]))
				}
				r.expr = strings.TrimSpace(strings.Join(body, "\n"))
			case strings.HasPrefix(v, `"`):
				u, err := strconv.Unquote(v)
				if err != nil {
					t.Fatalf("alerts.yml %s: expr %s: %v", r.name, v, err)
				}
				r.expr = u
			case strings.HasPrefix(v, "'"):
				r.expr = strings.ReplaceAll(strings.Trim(v, "'"), "''", "'")
			default:
				r.expr = v
			}
		}
		i = j - 1
		r.annotations = strings.Join(rest, "\n")
		if r.expr == "" {
			t.Fatalf("alerts.yml %s: no expr found", r.name)
		}
		rules = append(rules, r)
	}
	if n := len(regexp.MustCompile(`(?m)^\s*- alert:`).FindAllString(strings.Join(lines, "\n"), -1)); n != len(rules) || n == 0 {
		t.Fatalf("read %d of the %d alerts of alerts.yml", len(rules), n)
	}
	return rules
}

// contribDash is the part of a Grafana dashboard JSON model checked here.
type contribDash struct {
	Inputs []struct {
		Name     string `json:"name"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []contribPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type contribPanel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource contribDS       `json:"datasource"`
	Targets    []contribTarget `json:"targets"`
	Panels     []contribPanel  `json:"panels"` // a collapsed row's
}

type contribTarget struct {
	Datasource   contribDS `json:"datasource"`
	Expr         string    `json:"expr"`
	LegendFormat string    `json:"legendFormat"`
}

type contribDS struct {
	UID string `json:"uid"`
}

type contribQuery struct{ panel, expr, legend, datasource string }

// contribDashboardQueries returns the queries of the dashboard's panels,
// and fails t if a panel other than a row has none, or an empty one.
func contribDashboardQueries(t *testing.T) []contribQuery {
	t.Helper()
	var dash contribDash
	if err := json.Unmarshal([]byte(contribRead(t, contribDashboard)), &dash); err != nil {
		t.Fatalf("amtrelay.json: %v", err)
	}
	var qs []contribQuery
	ids := map[int]bool{}
	var walk func([]contribPanel)
	walk = func(ps []contribPanel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("amtrelay.json: panel id %d twice", p.ID)
			}
			ids[p.ID] = true
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("amtrelay.json panel %q has no targets", p.Title)
			}
			if p.Datasource.UID != "${DS_PROMETHEUS}" {
				t.Errorf("amtrelay.json panel %q: data source %q, want ${DS_PROMETHEUS}", p.Title, p.Datasource.UID)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("amtrelay.json panel %q has an empty query", p.Title)
					continue
				}
				qs = append(qs, contribQuery{p.Title, tg.Expr, tg.LegendFormat, tg.Datasource.UID})
			}
		}
	}
	walk(dash.Panels)
	if len(qs) < 7 {
		t.Fatalf("amtrelay.json has %d queries, want panels for at least the 7 the README lists", len(qs))
	}
	return qs
}

// contribDocs maps each documented metric to its documented labels.
type contribDocs map[string]map[string]bool

// contribTargetLabels are the labels Prometheus gives every series of a
// scrape target; the alerts keep instance, as replicas share server labels.
var contribTargetLabels = []string{"instance", "job"}

// labels returns the labels a series of the metric name may have: its
// documented ones and the target's; a histogram's _bucket, _sum and
// _count series are those of the documented histogram (_bucket with le).
func (d contribDocs) labels(name string) (map[string]bool, bool) {
	base, le := name, false
	if _, ok := d[name]; !ok {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b := strings.TrimSuffix(name, suffix); b != name {
				if _, ok := d[b]; ok {
					base, le = b, suffix == "_bucket"
				}
			}
		}
	}
	doc, ok := d[base]
	if !ok {
		return nil, false
	}
	labels := map[string]bool{"le": le}
	for l := range doc {
		labels[l] = true
	}
	for _, l := range contribTargetLabels {
		labels[l] = true
	}
	return labels, true
}

var (
	// contribDocEntry is a metric of a README's metric list:
	// "* `coredns_x_total{a, b}` - ...", labels optional.
	contribDocEntry = regexp.MustCompile("(?m)^\\* `(coredns_[a-z0-9_]+)(?:\\{([^}]*)\\})?`")
	contribMetricRE = regexp.MustCompile(`\bcoredns_[a-z0-9_]*[a-z0-9]`)
	contribSelector = regexp.MustCompile(`\b(coredns_[a-z0-9_]+)\s*\{([^}]*)\}`)
	contribMatcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	contribQuoted   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	contribGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)`)
	// contribGrafanaVar is a Grafana variable in a query: $name or ${name}.
	contribGrafanaVar = regexp.MustCompile(`\$\{?\w+\}?`)
)

// contribDocumentedMetrics reads the metric lists of the plugin README's
// ## Metrics section and of CoreDNS's prometheus and reload plugins'
// READMEs (in the module cache, at the version go.mod requires).
func contribDocumentedMetrics(t *testing.T) contribDocs {
	t.Helper()
	docs := contribDocs{}
	add := func(file, text string, prefix string) {
		n := 0
		for _, m := range contribDocEntry.FindAllStringSubmatch(text, -1) {
			if !strings.HasPrefix(m[1], prefix) {
				continue
			}
			n++
			labels := map[string]bool{}
			for _, l := range strings.Split(m[2], ",") {
				if l = strings.TrimSpace(l); l != "" {
					labels[l] = true
				}
			}
			docs[m[1]] = labels
		}
		if n == 0 {
			t.Fatalf("no metrics listed in %s", file)
		}
	}

	readme := contribRead(t, filepath.Join("..", "plugin", "amtrelay", "README.md"))
	section := regexp.MustCompile(`(?s)\n## Metrics\n(.*?)(\n## |$)`).FindStringSubmatch(readme)
	if section == nil {
		t.Fatal("plugin/amtrelay/README.md has no ## Metrics section")
	}
	add("plugin/amtrelay/README.md", section[1], "coredns_amtrelay_")

	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "list", "-m", "-f", "{{.Dir}}", "github.com/coredns/coredns")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("finding CoreDNS's module directory: %v %s", err, out)
	}
	coredns := strings.TrimSpace(string(out))
	for _, p := range []string{"metrics", "reload"} {
		file := filepath.Join(coredns, "plugin", p, "README.md")
		add(file, contribRead(t, file), "coredns_")
	}
	return docs
}

// contribCheckNames: every metric named anywhere in text (queries,
// descriptions) is documented, a coredns_amtrelay_ one in the plugin
// README.
func contribCheckNames(t *testing.T, where, text string, docs contribDocs) {
	t.Helper()
	seen := map[string]bool{}
	for _, name := range contribMetricRE.FindAllString(text, -1) {
		if seen[name] {
			continue
		}
		seen[name] = true
		if _, ok := docs.labels(name); !ok {
			doc := "CoreDNS's metrics or reload README"
			if strings.HasPrefix(name, "coredns_amtrelay_") {
				doc = "plugin/amtrelay/README.md ## Metrics"
			}
			t.Errorf("%s names %s, which is not in %s", where, name, doc)
		}
	}
}

// contribCheckSelectors: the label matchers of every selector of text
// ("metric{a="x", b=~"y"}") use labels the metric has.
func contribCheckSelectors(t *testing.T, where, text string, docs contribDocs) {
	t.Helper()
	for _, m := range contribSelector.FindAllStringSubmatch(text, -1) {
		labels, ok := docs.labels(m[1])
		if !ok {
			continue // reported by contribCheckNames
		}
		for _, l := range contribMatcher.FindAllStringSubmatch(contribQuoted.ReplaceAllString(m[2], `""`), -1) {
			if !labels[l[1]] {
				t.Errorf("%s: %s has no label %s (documented: %s)", where, m[1], l[1], contribList(labels))
			}
		}
	}
}

// contribCheckExpr: the labels of every by, without, on, ignoring,
// group_left and group_right of expr are labels of every metric of the
// expression they apply to: an aggregation's argument, or the whole
// expression for vector matching.
func contribCheckExpr(t *testing.T, where, expr string, docs contribDocs) {
	t.Helper()
	expr = contribQuoted.ReplaceAllString(expr, `""`)
	for _, loc := range contribGrouping.FindAllStringSubmatchIndex(expr, -1) {
		kw, list := expr[loc[2]:loc[3]], expr[loc[4]:loc[5]]
		scope := expr
		if kw == "by" || kw == "without" {
			scope = contribAggregated(expr, loc[0], loc[1])
			if scope == "" {
				t.Errorf("%s: cannot find what %s (%s) aggregates", where, kw, list)
				continue
			}
		}
		keepsLE := false
		for _, l := range strings.Split(list, ",") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			keepsLE = keepsLE || l == "le"
			for _, name := range contribMetricRE.FindAllString(scope, -1) {
				if labels, ok := docs.labels(name); ok && !labels[l] {
					t.Errorf("%s: %s (%s) uses label %s, which %s does not have (documented: %s)", where, kw, list, l, name, contribList(labels))
				}
			}
		}
		if kw == "by" && !keepsLE && strings.Contains(scope, "_bucket") {
			t.Errorf("%s: by (%s) over histogram buckets drops le, which histogram_quantile needs", where, list)
		}
	}
}

// contribAggregated returns the argument of the aggregation whose
// by/without clause is expr[start:end]: the parenthesised expression after
// the clause ("sum by (a) (x)"), or before it ("sum (x) by (a)").
func contribAggregated(expr string, start, end int) string {
	rest := strings.TrimLeft(expr[end:], " \t\n")
	if strings.HasPrefix(rest, "(") {
		depth := 0
		for i, c := range rest {
			switch c {
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					return rest[:i+1]
				}
			}
		}
		return ""
	}
	before := strings.TrimRight(expr[:start], " \t\n")
	if !strings.HasSuffix(before, ")") {
		return ""
	}
	depth := 0
	for i := len(before) - 1; i >= 0; i-- {
		switch before[i] {
		case ')':
			depth++
		case '(':
			if depth--; depth == 0 {
				return before[i:]
			}
		}
	}
	return ""
}

// contribCheckOutputLabel: label, used in an alert's annotations or a
// panel's legend, is a label of expr's result: one its aggregations keep
// (by), or, without aggregation, one of its metrics have.
func contribCheckOutputLabel(t *testing.T, where, expr, label string, docs contribDocs) {
	t.Helper()
	expr = contribQuoted.ReplaceAllString(expr, `""`)
	kept, aggregated := map[string]bool{}, false
	for _, m := range contribGrouping.FindAllStringSubmatch(expr, -1) {
		if m[1] != "by" {
			continue
		}
		aggregated = true
		for _, l := range strings.Split(m[2], ",") {
			kept[strings.TrimSpace(l)] = true
		}
	}
	if aggregated {
		if !kept[label] {
			t.Errorf("%s uses label %s, which the query's aggregation drops (keeps %s)", where, label, contribList(kept))
		}
		return
	}
	for _, name := range contribMetricRE.FindAllString(expr, -1) {
		if labels, ok := docs.labels(name); ok && !labels[label] {
			t.Errorf("%s uses label %s, which %s does not have", where, label, name)
		}
	}
}

func contribList(set map[string]bool) string {
	var l []string
	for k, v := range set {
		if v {
			l = append(l, k)
		}
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

func contribRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
