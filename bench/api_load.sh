#!/bin/bash
# api_load.sh - the daemon's HTTP API under 100 concurrent clients (wrk on
# loopback), beside a static file server on the same HTTP stack sending
# the same bytes.  A benchmark, not a test; it fails loudly (exit 1) when
# any request fails.
#
#   bench/api_load.sh [BUILD_DIR]        (default: build; use a release
#                                          build for figures)
#
# A repository in a temp directory gets some content: the dealer's
# picture of tests/cli/status_fill.c when BUILD_DIR/cli/status_fill
# exists (five commits, fourteen deals, SPs with asks: what
# /public/stats counts), and a tree added with `estuaryfs add`:
# small.txt (1 KiB), big.bin (1 MiB of random bytes, one raw block) and
# docs/sub/readme.md.  `estuaryfs daemon` then serves it (dealer off:
# what is measured is the HTTP server, not a dealer cycle beside it) on
# 127.0.0.1 at a free port, and wrk runs, for DURATION seconds each,
# with -c100 -t2 --latency --timeout 5s:
#
#   gateway small   GET /ipfs/ROOT/small.txt      (a path in a directory)
#   gateway 1MiB    GET /ipfs/BIGCID              (a file by its own CID)
#   gateway path    GET /ipfs/ROOT/docs/sub/readme.md
#   public/stats    GET /public/stats
#   health          GET /health (the API frame alone: route, scope and
#                   metrics around a handler that does nothing)
#
# and the same wrk against bench/http_static (BUILD_DIR/bench/http_static),
# which serves the same bytes from files (open, fstat, sendfile) on the
# same server code (net/http.c, libmicrohttpd, a thread per connection):
# for /public/stats, the JSON the daemon answered, saved to a file.  The
# ratio (estuaryfs / static) is the share of the bare server's rate the
# route keeps: what the route's own work (CID and path parsing, scope
# check, blockstore reads, re-hashing every block, the stats queries and
# JSON) costs, with libmicrohttpd taken out.  wrk, the daemon and the
# static server share the machine's cores, as they do in the figures of
# any loopback benchmark.
#
# Before the load, curl checks each URL once: status 200 and the bytes
# expected.  The run fails when wrk reports a socket error (connect,
# read, write, timeout) or a non-2xx/3xx reply, or when the daemon's own
# /metrics (efs_http_requests_total) counts any reply that is not 2xx.
#
# Prints one line per run: requests/s, p50 and p99 latency, errors, then
# the ratios.  Environment: DURATION (seconds, default 10), WARMUP
# (seconds before each run, default 2), CONNS (100), THREADS (2), KEEP=1 (keep the temp directory and wrk's raw output).
# Needs wrk (Debian: wrk; contrib/install-deps.sh installs it) and curl.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
efs=$build/cli/estuaryfs
static=$build/bench/http_static
fill=$build/cli/status_fill
duration=${DURATION:-10}
warmup=${WARMUP:-2}
conns=${CONNS:-100}
threads=${THREADS:-2}

die() { echo "api_load: $*" >&2; exit 1; }
for b in "$efs" "$static"; do
	[ -x "$b" ] || die "missing $b (ninja -C $build)"
done
command -v wrk >/dev/null ||
	die "wrk is not installed (contrib/install-deps.sh, or apt-get install wrk)"
command -v curl >/dev/null || die "curl is not installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/api-load.XXXXXX")
export ESTUARYFS_HOME=$tmp/repo
spid=
cleanup() {
	"$efs" daemon stop >/dev/null 2>&1 || true
	if [ -n "$spid" ]; then
		kill "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT INT TERM

# ---- the repository ----
mkdir -p "$ESTUARYFS_HOME" "$tmp/tree/docs/sub" "$tmp/ref"
if [ -x "$fill" ]; then
	"$fill" "$ESTUARYFS_HOME" >/dev/null || die "status_fill failed"
	content="status_fill's commits and deals + the tree"
else
	content="the tree only ($fill not built: /public/stats counts no deals)"
fi
head -c 1024 /dev/urandom | base64 -w 64 | head -c 1024 >"$tmp/tree/small.txt"
head -c 1048576 /dev/urandom >"$tmp/tree/big.bin"
printf '# readme\n\nA file three directories down.\n' \
	>"$tmp/tree/docs/sub/readme.md"
root=$("$efs" add -q "$tmp/tree")
big=$("$efs" add -q "$tmp/tree/big.bin")
echo '{"dealer":{"enabled":false},"http":{"listen":"127.0.0.1:0"}}' \
	>"$ESTUARYFS_HOME/config.json"
"$efs" daemon || die "the daemon did not start"
api=$(cat "$ESTUARYFS_HOME/api.url")

# ---- the reference: the same bytes from files ----
cp "$tmp/tree/small.txt" "$tmp/ref/small"
cp "$tmp/tree/big.bin" "$tmp/ref/big"
cp "$tmp/tree/docs/sub/readme.md" "$tmp/ref/readme"
curl -sf "$api/public/stats" >"$tmp/ref/stats" ||
	die "GET /public/stats failed"
curl -sf "$api/health" >"$tmp/ref/health" || die "GET /health failed"
"$static" "$tmp/ref" >"$tmp/static.out" &
spid=$!
for _ in $(seq 50); do
	grep -q '^port ' "$tmp/static.out" && break
	sleep 0.1
done
ref="http://127.0.0.1:$(awk '/^port/ { print $2 }' "$tmp/static.out")"
[ "$ref" != "http://127.0.0.1:" ] || die "http_static did not start"

# NAME URL FILE: one GET answers 200 with FILE's bytes.
precheck() {
	local code
	code=$(curl -s -o "$tmp/got" -w '%{http_code}' "$2")
	[ "$code" = 200 ] || die "$1: GET $2 answered $code"
	cmp -s "$tmp/got" "$3" || die "$1: GET $2: not the bytes expected"
}

# Replies the daemon counted that were not 2xx, from /metrics.
non2xx() {
	curl -sf "$api/metrics" | awk '
		/^efs_http_requests_total\{/ && $1 !~ /code="2/ { n += $2 }
		END { print n + 0 }'
}

# FILE: the failed requests wrk's output FILE reports.
failed() {
	awk '
		/Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
		/Non-2xx or 3xx responses:/ { n += $5 }
		END { print n + 0 }' "$1"
}

# NAME URL: wrk's figures as "rps p50 p99 errors".  Latencies are
# converted to ms.  A warm-up of WARMUP seconds comes first (100 new
# connections, a thread each on both servers, and the first touch of
# every code path); its figures are thrown away, its errors are not.
run() {
	local out=$tmp/wrk.$1.${2//[^a-z0-9]/_} errs=0
	if [ "$warmup" -gt 0 ]; then
		wrk -c"$conns" -t"$threads" -d"${warmup}s" --timeout 5s "$3" \
			>"$out.warmup" 2>&1 ||
			die "wrk failed on $3: $(tail -1 "$out.warmup")"
		errs=$(failed "$out.warmup")
	fi
	wrk -c"$conns" -t"$threads" -d"${duration}s" --latency --timeout 5s \
		"$3" >"$out" 2>&1 || die "wrk failed on $3: $(tail -1 "$out")"
	errs=$((errs + $(failed "$out")))
	awk -v errs="$errs" '
		function ms(v) {
			if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
			if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
			if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
			return v
		}
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		/^Requests\/sec:/ { rps = $2 }
		END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, errs }' "$out"
	if [ "$errs" -ne 0 ]; then
		sed 's/^/    wrk: /' "$out" >&2
		die "$1 $2: $errs failed requests"
	fi
}

names=("gateway small" "gateway 1MiB" "gateway path" "public/stats"
	"health")
efs_urls=("$api/ipfs/$root/small.txt" "$api/ipfs/$big"
	"$api/ipfs/$root/docs/sub/readme.md" "$api/public/stats"
	"$api/health")
ref_urls=("$ref/small" "$ref/big" "$ref/readme" "$ref/stats" "$ref/health")
files=("$tmp/ref/small" "$tmp/ref/big" "$tmp/ref/readme" "$tmp/ref/stats"
	"$tmp/ref/health")

for i in "${!names[@]}"; do
	# the stats change with each request counted: only its status
	if [ "${names[$i]}" = public/stats ] || [ "${names[$i]}" = health ]; then
		code=$(curl -s -o /dev/null -w '%{http_code}' "${efs_urls[$i]}")
		[ "$code" = 200 ] || die "GET ${efs_urls[$i]} answered $code"
	else
		precheck "${names[$i]}" "${efs_urls[$i]}" "${files[$i]}"
	fi
	precheck "${names[$i]} (static)" "${ref_urls[$i]}" "${files[$i]}"
done
before=$(non2xx)

echo "estuaryfs $("$efs" --version | awk '{ print $2 }'), $(basename "$build");" \
	"$(nproc) CPUs; wrk -c$conns -t$threads -d${duration}s --latency;" \
	"content: $content"
printf '%-14s %-9s %10s %9s %9s %6s  %s\n' what server req/s p50_ms \
	p99_ms errors url
declare -A rps
for i in "${!names[@]}"; do
	for server in estuaryfs static; do
		if [ $server = estuaryfs ]; then
			url=${efs_urls[$i]}
		else
			url=${ref_urls[$i]}
		fi
		read -r r p50 p99 e < <(run "$server" "${names[$i]}" "$url")
		[ -n "$r" ] || exit 1
		rps[$server.$i]=$r
		printf '%-14s %-9s %10s %9s %9s %6s  %s\n' "${names[$i]}" \
			$server "$r" "$p50" "$p99" "$e" "${url#http://127.0.0.1:}"
	done
done

after=$(non2xx)
[ "$after" -eq "$before" ] ||
	die "the daemon answered $((after - before)) non-2xx replies under load"
echo "daemon's /metrics: 0 non-2xx replies during the runs"
echo
echo "ratio estuaryfs / static file server (same bytes, same HTTP stack):"
for i in "${!names[@]}"; do
	awk -v n="${names[$i]}" -v a="${rps[estuaryfs.$i]}" \
		-v b="${rps[static.$i]}" \
		'BEGIN { printf "  %-14s %.2f\n", n, (b > 0 ? a / b : 0) }'
done
