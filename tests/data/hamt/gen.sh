#!/bin/sh
# gen.sh ORACLE_DIR OUTDIR - run gen.mjs with the oracle's node_modules
# resolvable (bare imports resolve next to the script, so it is run from
# a temporary directory that links them).
set -eu
oracle=$(cd "$1" && pwd)
out=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$oracle/node_modules" "$tmp/node_modules"
cp "$(dirname "$0")/gen.mjs" "$tmp/gen.mjs"
node "$tmp/gen.mjs" "$oracle" "$out"
