#!/usr/bin/env bash
# Throughput of the amtrelay plugin against stock CoreDNS serving static
# records, in the same run, with dnsperf (Debian package dnsperf).
#
#   test/bench/dnsperf.sh [SECONDS]
#
# Both servers are built here: stock CoreDNS from the CoreDNS module this
# repository pins, and cmd/coredns. Each scenario runs alone, the server
# pinned to CPU 0 and dnsperf to CPU 1, on 127.0.0.1. Quote the ratios, not
# the absolute numbers: they depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
command -v dnsperf >/dev/null || { echo "dnsperf not found (apt-get install dnsperf)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

echo "building stock CoreDNS and cmd/coredns..." >&2
go build -o "$tmp/coredns-stock" github.com/coredns/coredns
go build -o "$tmp/coredns-amtrelay" ./cmd/coredns
go run ./corefile-examples/gengeoip -o "$tmp/city.mmdb" 2>/dev/null

# Queries: AMTRELAY for 256 sources in 198.51.100.0/24.
for i in $(seq 0 255); do echo "$i.100.51.198.in-addr.arpa AMTRELAY"; done > "$tmp/queries"

# The stock server's zone: the same three relays at each of the 256 names
# (D=0: stock CoreDNS sends D=1 records broken).
{
  echo '$TTL 30'
  echo '@ SOA amt-dns.example.net. hostmaster.amt-dns.example.net. 1 7200 1800 1209600 30'
  echo '@ NS amt-dns.example.net.'
  for i in $(seq 0 255); do
    echo "$i AMTRELAY 10 0 1 203.0.113.15"
    echo "$i AMTRELAY 10 0 2 2001:db8::15"
    echo "$i AMTRELAY 128 0 3 amtrelays.example.com."
  done
} > "$tmp/db.100.51.198"

relays() { # n -> relay lines at pseudorandom places
  awk -v n="$1" 'BEGIN { srand(1); for (i = 0; i < n; i++) printf "relay r%d 100.%d.%d.%d {\nlocation %.4f %.4f\n}\n", i, int(i/65536), int(i/256)%256, i%256, rand()*140-70, rand()*360-180 }'
}

cat > "$tmp/stock.corefile" <<CF
.:5301 {
    bind 127.0.0.1
    file $tmp/db.100.51.198 100.51.198.in-addr.arpa
}
CF
cat > "$tmp/static.corefile" <<CF
.:5302 {
    bind 127.0.0.1
    amtrelay {
        relay v4   10 0 1 203.0.113.15
        relay v6   10 0 2 2001:db8::15
        relay name 128 0 3 amtrelays.example.com.
        source 198.51.100.0/24
    }
}
CF
for n in 3 10000; do
  cat > "$tmp/closest$n.corefile" <<CF
.:$((5303 + n % 7)) {
    bind 127.0.0.1
    amtrelay {
$(relays $n)
        source 198.51.100.0/24
        policy closest
        answer 3
        geoip $tmp/city.mmdb
    }
}
CF
done

run() { # name binary corefile port extra-dnsperf-args...
  local name=$1 bin=$2 conf=$3 port=$4; shift 4
  taskset -c 0 "$bin" -conf "$conf" -quiet >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do dig +time=1 +tries=1 @127.0.0.1 -p "$port" 100.51.198.in-addr.arpa SOA >/dev/null 2>&1 && break; sleep 0.1; done
  taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/queries" -l "$secs" -c 4 -q 200 "$@" > "$tmp/$name.out" 2>&1 || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local qps lat
  qps=$(sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p' "$tmp/$name.out")
  lat=$(sed -n 's/.*Average Latency (s): *\([0-9.]*\).*/\1/p' "$tmp/$name.out")
  echo "$name $qps $lat"
}

ecs=8:00011a00cb007140 # ECS 203.0.113.64/26 (New York in the example database)
results=$(
  run stock-file "$tmp/coredns-stock" "$tmp/stock.corefile" 5301
  run amtrelay-static "$tmp/coredns-amtrelay" "$tmp/static.corefile" 5302
  run amtrelay-closest-3-ecs "$tmp/coredns-amtrelay" "$tmp/closest3.corefile" $((5303 + 3 % 7)) -E "$ecs"
  run amtrelay-closest-10000-ecs "$tmp/coredns-amtrelay" "$tmp/closest10000.corefile" $((5303 + 10000 % 7)) -E "$ecs"
)
base=$(echo "$results" | awk '$1 == "stock-file" { print $2 }')
printf '%-28s %12s %14s %10s\n' scenario "queries/s" "avg latency" "vs stock"
echo "$results" | while read -r name qps lat; do
  printf '%-28s %12.0f %12.1fµs %9.2fx\n' "$name" "$qps" "$(awk -v l="$lat" 'BEGIN{print l*1e6}')" "$(awk -v q="$qps" -v b="$base" 'BEGIN{print q/b}')"
done
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); dnsperf -c 4 -q 200 for ${secs}s each" >&2
