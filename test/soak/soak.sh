#!/usr/bin/env bash
# Soak test of cmd/coredns: a closest-policy server with AMT health probes
# and a GeoIP database, held at 80% of its measured peak with dnsperf
# (Debian package dnsperf) while, every 30 s each, a relay's responder is
# stopped and started again, the GeoIP file is replaced (written new, then
# renamed over), and the Corefile is replaced the same way and reloaded with
# SIGUSR1: one of the three every 10 s. Not part of go test.
#
#   test/soak/soak.sh                       # 10 minutes
#   SOAK_SECONDS=60 test/soak/soak.sh       # a short trial
#
# Environment:
#   SOAK_SECONDS       length of the soak at 80% (default 600)
#   SOAK_PEAK_SECONDS  length of the peak measurement (default 15)
#   SOAK_PERCENT       share of the peak to hold (default 80)
#   SOAK_RESULT        also write the result block to this file
#
# It records lost queries and response codes (dnsperf's summary), SERVFAILs
# as the server counts them, and, every 10 s, the server's RSS (VmRSS in
# /proc/PID/status) and goroutines (the pprof plugin's
# /debug/pprof/goroutine?debug=1: the total of its first line, and the
# goroutines not busy with a query at that instant, which is what a leak
# raises; at 16,000 queries a second the total jumps between 18 and 100
# with the queries in flight). RSS and goroutines are "flat" when the
# average of the last minute is within 10% of the first minute's (for runs
# under 3 minutes: of the first and last third). The result is a Markdown
# block for test/RELIABILITY.md's Soak section. Exit status 1 when the
# server died, anything was not flat, a query got SERVFAIL, or more than
# 0.1% of queries were lost.
#
# Everything runs on loopback: the server on 127.0.0.1, the relays'
# responders on 127.0.0.2-4, on free ports. Every process the script starts
# is stopped on exit, by its PID.
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${SOAK_SECONDS:-600}
peak_secs=${SOAK_PEAK_SECONDS:-15}
percent=${SOAK_PERCENT:-80}
tick=10 # seconds between samples, and between churn steps
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

die() { echo "soak: $*" >&2; exit 2; }
if ! command -v dnsperf >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y dnsperf >&2 || die "could not install dnsperf"
  else
    die "dnsperf not found (apt-get install -y dnsperf)"
  fi
fi
for tool in dig curl ss awk; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[ "$secs" -ge 30 ] || die "SOAK_SECONDS must be at least 30"

tmp=$(mktemp -d)
coredns_pid="" dnsperf_pid=""
responder_pids=("" "" "")
cleanup() {
  local p
  for p in "$dnsperf_pid" "$coredns_pid" "${responder_pids[@]}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "$dnsperf_pid" "$coredns_pid" "${responder_pids[@]}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# freeport prints a TCP and UDP port free on loopback and not yet handed out.
used=" "
freeport() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    case $used in *" $p "*) continue ;; esac
    if [ -z "$(ss -Htuan "( sport = :$p )")" ]; then
      used="$used$p "
      echo "$p"
      return
    fi
  done
  die "no free port"
}

# The server runs on CPU 0 and dnsperf on CPU 1, when there are two. taskset
# execs its command, so $! is the pinned process itself.
on_cpu0=() on_cpu1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  on_cpu0=(taskset -c 0) on_cpu1=(taskset -c 1)
fi

echo "soak: building cmd/coredns and cmd/amtresponder..." >&2
go build -o "$tmp/coredns" ./cmd/coredns
go build -o "$tmp/amtresponder" ./cmd/amtresponder
go run ./corefile-examples/gengeoip -o "$tmp/city-source.mmdb" 2>/dev/null
cp "$tmp/city-source.mmdb" "$tmp/city.mmdb"

dns_port=$(freeport) amt_port=$(freeport) pprof_port=$(freeport) metrics_port=$(freeport)
relay_addrs=(127.0.0.2 127.0.0.3 127.0.0.4)

# corefile N writes the configuration with "answer N": reloads alternate
# between 3 and 2, so that each one changes something.
corefile() {
  cat <<CF
.:$dns_port {
    bind 127.0.0.1
    amtrelay {
        relay cam ${relay_addrs[0]} {
            location 52.2053 0.1218
        }
        relay chi ${relay_addrs[1]} {
            location 41.8781 -87.6298
        }
        relay syd ${relay_addrs[2]} {
            location -33.8688 151.2093
        }
        source 198.51.100.0/24
        policy closest
        answer $1
        geoip $tmp/city.mmdb {
            reload 2s
        }
        health $amt_port {
            interval 1s
            timeout 500ms
            down 2
            up 2
        }
        all-down fail-open
        ns amt-dns.example.net.
    }
    pprof 127.0.0.1:$pprof_port
    prometheus 127.0.0.1:$metrics_port
    errors
}
CF
}

start_responder() { # index
  "$tmp/amtresponder" "${relay_addrs[$1]}:$amt_port" >/dev/null 2>&1 &
  responder_pids[$1]=$!
}
stop_responder() { # index
  kill "${responder_pids[$1]}" 2>/dev/null || true
  wait "${responder_pids[$1]}" 2>/dev/null || true
  responder_pids[$1]=""
}

answers() { # -> rcode of one AMTRELAY query, "none" if no reply
  local out
  out=$(dig +time=2 +tries=1 -p "$dns_port" @127.0.0.1 12.100.51.198.in-addr.arpa TYPE260 2>/dev/null) || { echo none; return; }
  sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out"
}

metric() { # name-and-labels-regexp -> sum of matching samples
  { curl -s --max-time 5 "http://127.0.0.1:$metrics_port/metrics" || true; } |
    awk -v re="^$1" '$0 ~ re { s += $NF } END { printf "%d\n", s }'
}

for i in 0 1 2; do start_responder "$i"; done
corefile 3 >"$tmp/Corefile"
"${on_cpu0[@]}" "$tmp/coredns" -conf "$tmp/Corefile" >"$tmp/coredns.log" 2>&1 &
coredns_pid=$!
for _ in $(seq 100); do [ "$(answers)" = NOERROR ] && break; sleep 0.2; done
[ "$(answers)" = NOERROR ] || { cat "$tmp/coredns.log" >&2; die "the server did not answer"; }

# Queries: AMTRELAY for 256 sources in 198.51.100.0/24.
for i in $(seq 0 255); do echo "$i.100.51.198.in-addr.arpa AMTRELAY"; done >"$tmp/queries"

summary() { # dnsperf output file, field -> value
  sed -n "s/^ *$2: *\([0-9.]*\).*/\1/p" "$1" | head -1
}

echo "soak: measuring peak for ${peak_secs}s..." >&2
"${on_cpu1[@]}" dnsperf -s 127.0.0.1 -p "$dns_port" -d "$tmp/queries" -l "$peak_secs" -c 4 -q 200 >"$tmp/peak.out" 2>&1 || true
peak=$(summary "$tmp/peak.out" "Queries per second")
[ -n "$peak" ] || { cat "$tmp/peak.out" >&2; die "no peak measured"; }
target=$(awk -v p="$peak" -v s="$percent" 'BEGIN { printf "%d", p * s / 100 }')
echo "soak: peak $peak q/s; holding $target q/s for ${secs}s" >&2

"${on_cpu1[@]}" dnsperf -s 127.0.0.1 -p "$dns_port" -d "$tmp/queries" -l "$secs" -c 4 -q 200 -Q "$target" >"$tmp/soak.out" 2>&1 &
dnsperf_pid=$!
start=$(date +%s)

# Every tick: sample, then one churn step, in turn: flap a relay, replace
# the GeoIP file, reload a new Corefile.
goroutines() { # -> "AT-REST TOTAL": goroutines not answering a UDP query, all
  { curl -s --max-time 5 "http://127.0.0.1:$pprof_port/debug/pprof/goroutine?debug=1" || true; } |
    awk '/^goroutine profile:/ { total = $NF; next }
      /^[0-9]+ @/ { if (!busy) rest += n; n = $1; busy = 0; next }
      /serveUDPPacket/ { busy = 1 }
      END { if (!busy) rest += n; printf "%d %d\n", rest, total }'
}
sample() { # elapsed
  local rss sf
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$coredns_pid/status" 2>/dev/null || echo 0)
  sf=$(metric 'coredns_dns_responses_total\{.*rcode="SERVFAIL"')
  echo "$1 $rss $(goroutines) $sf" >>"$tmp/samples"
}
flaps=0 geoips=0 reloads=0 reload_failures=0 down="" answer=3 died=""
sample 0
step=0
while kill -0 "$dnsperf_pid" 2>/dev/null; do
  step=$((step + 1))
  wake=$((start + step * tick))
  now=$(date +%s)
  [ "$wake" -gt "$now" ] && sleep $((wake - now))
  kill -0 "$dnsperf_pid" 2>/dev/null || break
  if ! kill -0 "$coredns_pid" 2>/dev/null; then died="after $((step * tick)) s"; break; fi
  sample $((step * tick))
  case $((step % 3)) in
  1) # the relay that is down comes back, the next one goes down
    [ -n "$down" ] && start_responder "$down"
    down=$((flaps % 3))
    stop_responder "$down"
    flaps=$((flaps + 1)) ;;
  2) cp "$tmp/city-source.mmdb" "$tmp/city.mmdb.new"
    mv "$tmp/city.mmdb.new" "$tmp/city.mmdb"
    geoips=$((geoips + 1)) ;;
  0) answer=$((5 - answer))
    corefile "$answer" >"$tmp/Corefile.new"
    mv "$tmp/Corefile.new" "$tmp/Corefile"
    kill -USR1 "$coredns_pid"
    reloads=$((reloads + 1))
    sleep 1
    [ "$(answers)" = NOERROR ] || reload_failures=$((reload_failures + 1)) ;;
  esac
done
wait "$dnsperf_pid" 2>/dev/null || true
dnsperf_pid=""
if [ -z "$died" ] && ! kill -0 "$coredns_pid" 2>/dev/null; then died="at the end"; fi

# Results.
sent=$(summary "$tmp/soak.out" "Queries sent")
completed=$(summary "$tmp/soak.out" "Queries completed")
lost=$(summary "$tmp/soak.out" "Queries lost")
qps=$(summary "$tmp/soak.out" "Queries per second")
codes=$(sed -n 's/^ *Response codes: *//p' "$tmp/soak.out" | head -1)
lost_pct=$(awk -v l="${lost:-0}" -v s="${sent:-0}" 'BEGIN { printf "%.3f", s ? 100 * l / s : 0 }')
servfail_dnsperf=$(sed -n 's/.*SERVFAIL \([0-9]*\).*/\1/p' <<<"$codes")
servfail_server=$(tail -1 "$tmp/samples" | awk '{ print $5 }')
geoip_ok=$(metric 'coredns_amtrelay_geoip_loads_total\{.*result="ok"')
geoip_err=$(metric 'coredns_amtrelay_geoip_loads_total\{.*result="error"')
rejected=$(metric 'coredns_amtrelay_reloads_rejected_total')
sigusr1=$(grep -c 'SIGUSR1: Reloading' "$tmp/coredns.log" || true)
sigusr1_err=$(grep -c 'ERROR\] SIGUSR1' "$tmp/coredns.log" || true)
log_errors=$(grep -c '\[ERROR\]' "$tmp/coredns.log" || true)

# Flatness: the first window's average against the last window's.
window=$(((secs >= 180 ? 60 : secs / 3) / tick * tick))
[ "$window" -ge "$tick" ] || window=$tick
last=$(tail -1 "$tmp/samples" | awk '{ print $1 }')
flat() { # column unit divisor -> "first → last (+x%): flat"
  awk -v c="$1" -v w="$window" -v last="$last" -v d="$3" -v unit="$2" '
    $1 >= 1 && $1 <= w { f += $c; nf++ }
    $1 > last - w { l += $c; nl++ }
    END {
      f = nf ? f / nf / d : 0; l = nl ? l / nl / d : 0
      pct = f ? 100 * (l - f) / f : 0
      verdict = (pct <= 10 && pct >= -10) ? "flat" : "NOT flat"
      printf "%.1f%s → %.1f%s (%+.1f%%): %s\n", f, unit, l, unit, pct, verdict
    }' "$tmp/samples"
}
rss_line=$(flat 2 " MB" 1024)
gor_line=$(flat 3 "" 1)

verdict=PASS
reasons=()
[ -z "$died" ] || { verdict=FAIL; reasons+=("server died $died"); }
case $rss_line in *"NOT flat"*) verdict=FAIL; reasons+=("RSS not flat") ;; esac
case $gor_line in *"NOT flat"*) verdict=FAIL; reasons+=("goroutines not flat") ;; esac
[ "${servfail_dnsperf:-0}" -eq 0 ] && [ "${servfail_server:-0}" -eq 0 ] || { verdict=FAIL; reasons+=("SERVFAIL"); }
awk -v p="$lost_pct" 'BEGIN { exit !(p > 0.1) }' && { verdict=FAIL; reasons+=("more than 0.1% lost"); }
[ "$reload_failures" -eq 0 ] && [ "${sigusr1_err:-0}" -eq 0 ] || { verdict=FAIL; reasons+=("a reload failed"); }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit + uncommitted changes"
kind="soak"
[ "$secs" -ge 600 ] || kind="trial (SOAK_SECONDS=$secs, not the 10-minute soak)"

result=$(
  echo "### Soak $(date -u '+%Y-%m-%d %H:%M UTC'): ${secs} s, $kind"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| build | $commit |"
  echo "| machine | $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load average before: $load_start |"
  echo "| peak | $peak q/s (dnsperf -c 4 -q 200, ${peak_secs} s, 256 AMTRELAY names) |"
  echo "| held | ${percent}%: -Q $target; achieved $qps q/s |"
  echo "| queries | sent $sent, completed $completed, lost $lost ($lost_pct%) |"
  echo "| response codes | $codes |"
  echo "| SERVFAIL | dnsperf ${servfail_dnsperf:-0}, server's count ${servfail_server:-0} |"
  echo "| churn | $flaps relay flaps, $geoips GeoIP replacements ($geoip_ok loads ok, $geoip_err failed), $reloads Corefile reloads ($sigusr1 logged, $sigusr1_err failed, $reload_failures unanswered after, $rejected rejected) |"
  echo "| server log | $log_errors [ERROR] lines |"
  echo "| RSS | $rss_line |"
  echo "| goroutines not serving a query | $gor_line |"
  echo "| verdict | $verdict${reasons:+: ${reasons[*]}} |"
  echo
  echo "First/last window: ${window} s. Samples every ${tick} s (elapsed s, RSS kB, goroutines not serving a query, all goroutines, SERVFAIL total):"
  echo
  echo '```'
  cat "$tmp/samples"
  echo '```'
)
echo "$result"
[ -z "${SOAK_RESULT:-}" ] || echo "$result" >"$SOAK_RESULT"
[ "$verdict" = PASS ]
