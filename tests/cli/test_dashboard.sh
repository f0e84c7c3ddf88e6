#!/bin/bash
# test_dashboard.sh - the web dashboard (api/api_dash.c, api/dash/) in a
# real browser: a real `estuaryfs daemon` over a repository written by
# tests/cli/status_fill.c and miners_fill.c ($STATUS_FILL, $MINERS_FILL:
# five commits, fourteen deals, SPs with performance, logs and
# bandwidth), opened in headless Chromium.
#
# Checks, over HTTP: the files are the ones in api/dash/ byte for byte,
# with their Content-Type, a strict Content-Security-Policy, nosniff and
# Cache-Control; /dashboard redirects; unknown names are 404, other
# methods 405; /dashboard/api/deals lists every deal.  In the browser
# (--dump-dom after the script ran, --virtual-time-budget): without a key,
# public figures appear and the READ sections ask for a key (and no
# commit root leaks); with the key (#key=, as a user's link would carry
# it), the commits with their replication, the deals, a deal's receipt,
# an SP's log, the bandwidth chart; a refused key says so; markup in the
# dealer's note is shown as text, never parsed.  A screenshot
# (1280x900) is a PNG of that size, of many colours, with the header's
# and the chart's colours in it.
#
# Without Chromium (contrib/install-deps.sh installs Debian's chromium)
# only the HTTP checks run, and the test says SKIP (77) when they pass.
# python3 (the build needs it) writes the note and reads the PNG.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
FILL=${STATUS_FILL:?STATUS_FILL must name the status_fill executable}
MFILL=${MINERS_FILL:?MINERS_FILL must name the miners_fill executable}
R=$ESTUARYFS_HOME

trap '"$EFS" daemon stop >/dev/null 2>&1; rm -rf "$T"' EXIT

# ---- the repository and the daemon ----
mkdir -p "$R"
if ! "$FILL" "$R" >"$T/fill" || ! "$MFILL" "$R/index.db" >/dev/null; then
	fail "the fill programs failed"
	finish
fi
eval "$(grep -E '^[A-Z0-9_]+=[A-Za-z0-9-]*$' "$T/fill")"
# markup where the API hands out text the dealer wrote: commit 4's
# note ("next") must reach the page as text
python3 - "$R/index.db" <<'EOF' || fail "cannot write the note"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE dealer_piece_notes SET note = ?",
           ('<img id="xss" src="x"><b>bold</b>',))
db.commit()
EOF
echo '{"dealer":{"enabled":false},"http":{"listen":"127.0.0.1:0"}}' \
	>"$R/config.json"
expect 0 "daemon starts" -- "$EFS" daemon || finish
URL=$(cat "$R/api.url")
TOKEN=$(cat "$R/api.token")

# METHOD PATH: the raw reply in $T/http, its status printed.
req()
{
	exec 3<>"/dev/tcp/127.0.0.1/${URL##*:}" || return 1
	printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" "$2" >&3
	timeout 10 cat <&3 >"$T/http"
	exec 3<&-
	head -1 "$T/http" | cut -d' ' -f2
}

body()
{
	sed '1,/^\r$/d' "$T/http"
}

# The value of header NAME in the last reply.
header()
{
	sed -n '1,/^\r$/p' "$T/http" | tr -d '\r' |
		sed -n "s/^$1: //Ip" | head -1
}

# ---- over HTTP ----
check_eq "GET /dashboard" "$(req GET /dashboard)" 308
check_eq "redirect to /dashboard/" "$(header Location)" /dashboard/
check_eq "GET /" "$(req GET /)" 308
check_eq "/ redirects to /dashboard/" "$(header Location)" /dashboard/
check_eq "GET /nope: still 404" "$(req GET /nope)" 404
for f in index.html:text/html dash.css:text/css dash.js:text/javascript; do
	name=${f%%:*}
	path=/dashboard/$name
	[ "$name" = index.html ] && path=/dashboard/
	check_eq "GET $path" "$(req GET "$path")" 200
	body >"$T/served"
	check_files "$path is api/dash/$name" "$T/served" "$SRC/api/dash/$name"
	check_eq "$path Content-Type" "$(header Content-Type)" \
		"${f#*:}; charset=utf-8"
	case $(header Content-Security-Policy) in
	*"default-src 'none'"*"script-src 'self'"*) pass "$path CSP" ;;
	*) fail "$path CSP: '$(header Content-Security-Policy)'" ;;
	esac
	check_eq "$path nosniff" "$(header X-Content-Type-Options)" nosniff
	check_eq "$path Cache-Control" "$(header Cache-Control)" no-cache
done
check_eq "GET /dashboard/index.html" "$(req GET /dashboard/index.html)" 200
check_eq "HEAD /dashboard/" "$(req HEAD /dashboard/)" 200
check_eq "HEAD: no body" "$(body | wc -c)" 0
check_eq "POST /dashboard/" "$(req POST /dashboard/)" 405
check_eq "an unknown file" "$(req GET /dashboard/nope.js)" 404
check_eq "a path out of it" "$(req GET /dashboard/..%2fapi.token)" 404
check_eq "no file under a file" "$(req GET /dashboard/dash.js/x)" 404
check_eq "GET /dashboard/api/deals" "$(req GET /dashboard/api/deals)" 200
check_eq "every deal" "$(body | grep -o '"uuid"' | wc -l)" 14
check_eq "deals paged" "$(req GET '/dashboard/api/deals?limit=3&offset=12')" 200
check_eq "the last two" "$(body | grep -o '"uuid"' | wc -l)" 2
check_eq "a bad limit" "$(req GET '/dashboard/api/deals?limit=x')" 400

# ---- in the browser ----
CHROMIUM=$(command -v chromium || command -v chromium-browser ||
	command -v google-chrome) || CHROMIUM=
if [ -z "$CHROMIUM" ] && [ "$failures" -eq 0 ]; then
	echo "SKIP: no chromium (contrib/install-deps.sh installs it)"
	exit 77
fi
[ -n "$CHROMIUM" ] || finish

# chromium ARGS... URL, in a profile of its own, bounded in time.
browse()
{
	HOME=$T timeout 40 "$CHROMIUM" --headless=new --no-sandbox \
		--disable-gpu --disable-dev-shm-usage --no-first-run \
		--user-data-dir="$T/chrome" --hide-scrollbars \
		--virtual-time-budget=4000 "$@" 2>>"$T/chrome.log"
}

# DESC FILE PATTERN: FILE matches the grep -E pattern
has()
{
	grep -qE -- "$3" "$2" && pass "$1" || fail "$1: no /$3/ in the page"
}

hasnt()
{
	grep -qE -- "$3" "$2" && fail "$1: /$3/ in the page" || pass "$1"
}

# without a key: the public figures
browse --dump-dom "$URL/dashboard/" >"$T/public.html"
has "the script ran" "$T/public.html" 'data-loaded="yes"'
has "status line" "$T/public.html" 'id="status" class="status muted">updated '
has "stored card" "$T/public.html" '>Stored<.*>463\.3 KiB<'
has "evicted card" "$T/public.html" '>97\.7 KiB<.*>98 blocks held by SPs<'
has "deals on chain" "$T/public.html" '>Deals on chain<.*>11<.*>10 active<'
has "active deals by state" "$T/public.html" 'data-state="active".*class="n">10<'
has "the miners" "$T/public.html" 'data-miner="f01000".*data-miner="f01005"'
has "a miner's score" "$T/public.html" '>0\.71<'
has "a backed-off miner" "$T/public.html" 'badge backed">backed off until'
has "the deals" "$T/public.html" 'data-deal="101".*data-deal="206"'
check_eq "fourteen deal rows" "$(grep -o 'data-deal=' "$T/public.html" | wc -l)" 14
has "retrievals per SP" "$T/public.html" 'id="retr-sps".*>f01000<.*>128\.0 MiB<'
has "retrieval counters" "$T/public.html" 'data-metric="efs_retrieval_blocks_total"'
has "commits ask for a key" "$T/public.html" \
	'id="commit-table"><p class="need-key">The commit list needs an API key'
has "bandwidth asks for a key" "$T/public.html" \
	'id="bandwidth" class="chart"><p class="need-key">'
hasnt "no commit root without a key" "$T/public.html" "$ROOT1"
has "no key said" "$T/public.html" 'no API key: public data only'

# with the key, a deal's receipt and an SP's log open
browse --dump-dom "$URL/dashboard/#key=$TOKEN&deal=101&miner=f01000" \
	>"$T/read.html"
has "the key's scope" "$T/read.html" 'API key: admin scope'
has "commit 1's root" "$T/read.html" "data-commit=\"1\".*$ROOT1"
has "commit 1 at 4/6" "$T/read.html" 'data-commit="1".*class="txt">4/6<'
has "commit 3 at 6/6, evicted" "$T/read.html" \
	'data-commit="3".*class="txt">6/6<.*badge evicted'
has "health: 1 of 5 at target" "$T/read.html" '>At target<.*>1 / 5<'
has "the deals' commits" "$T/read.html" \
	'data-deal="101".*<td>f01000</td><td>1</td>'
has "the receipt" "$T/read.html" 'Receipt of deal 101'
has "the receipt's history" "$T/read.html" 'id="deal-detail".*>accepted<'
has "the on-chain record" "$T/read.html" '"Label": "deal-101"'
has "the SP's log" "$T/read.html" 'Storage provider f01000.*>garbage<'
has "garbage bytes as text" "$T/read.html" 'x01\\x02not cbor'
has "bandwidth bars" "$T/read.html" '<rect class="bar-sent"'
check_eq "two days of bars" \
	"$(grep -o '<rect class="bar-sent"' "$T/read.html" | wc -l)" 2
has "bandwidth total" "$T/read.html" 'total: 4\.00 GiB sent, 192\.0 MiB fetched'
has "the note as text" "$T/read.html" '&lt;img id="xss" src="x"&gt;&lt;b&gt;bold'
hasnt "the note is no markup" "$T/read.html" '<img id="xss"'
hasnt "the key leaves the address bar" "$T/read.html" "$TOKEN"

browse --dump-dom "$URL/dashboard/#key=EST0000ARY" >"$T/bad.html"
has "a refused key" "$T/bad.html" 'API key refused: public data only'
has "then public data only" "$T/bad.html" 'this key was refused'

# a screenshot: a PNG of the window's size, drawn
rm -f "$T/shot.png"
browse --window-size=1280,900 --screenshot="$T/shot.png" \
	"$URL/dashboard/#key=$TOKEN" >/dev/null
if [ ! -s "$T/shot.png" ]; then
	fail "no screenshot"
	sed 's/^/    chromium: /' "$T/chrome.log" | tail -5 >&2
else
	python3 - "$T/shot.png" >"$T/png" <<'EOF' || fail "not a PNG"
# width, height, distinct colours and the count of a few colours of
# dash.css, from the PNG's own bytes (zlib, with the scanline filters
# undone)
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    chunk = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        hdr = struct.unpack(">IIBBBBB", chunk)
    elif kind == b"IDAT":
        idat += chunk
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = hdr
assert depth == 8 and ctype in (2, 6) and interlace == 0
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours = {}
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif f == 3:
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + pr) & 255
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        colours[px] = colours.get(px, 0) + 1
    prev = line
def count(hexrgb):
    return colours.get(bytes.fromhex(hexrgb), 0)
print(w, h, len(colours), count("17324d"), count("2f6fb2"),
      count("e8590c"))
EOF
	read -r pw ph ncol top sent fetched <"$T/png"
	check_eq "screenshot size" "${pw}x$ph" 1280x900
	[ "${ncol:-0}" -ge 50 ] && pass "screenshot: $ncol colours" ||
		fail "screenshot: only ${ncol:-0} colours (blank?)"
	[ "${top:-0}" -ge 20000 ] && pass "the header is drawn ($top px)" ||
		fail "the header's colour on ${top:-0} pixels: no stylesheet?"
	[ "${sent:-0}" -ge 500 ] && [ "${fetched:-0}" -ge 100 ] &&
		pass "the chart is drawn ($sent, $fetched px)" ||
		fail "the chart's colours on ${sent:-0}, ${fetched:-0} pixels"
fi

finish
