#!/bin/sh
# dealer_scale.sh - the figures of issue 5's closing note, against the
# devnet, in one run (about 1 minute on 2 cores).  A benchmark, not a
# test: `meson test` never runs it.
#
#   bench/dealer_scale.sh [BUILD_DIR]   (default: build; set up as a
#                                        release build when missing)
#
# 1. bench/dealer_scale: 10,000 commits (one piece each) and 60,000
#    active deals (6 a piece on 16 SPs, made on the devnet at once with
#    Devnet.InjectDeals) in the index; the dealer's first cycle after a
#    start, one right after it, and a full state check alone: duration,
#    Lotus requests and JSON-RPC calls (batched), deals checked and
#    changed; index.db's size; the resident memory of the process
#    running the dealer's code (goal <= 128 MiB); the check's parts.
# 2. bench/dealer_latency: commit of a 1 MiB file to 6 active deals on a
#    devnet of 8 SPs, split into the dealer's time and the devnet's own
#    delays (transfer, publication, sealing), over a few rounds.
#
# Each program's header says exactly what it measures.  Environment:
#   COMMITS=10000  SPS=16  EPOCH=1s        the scale run
#   LATENCY_EPOCH=1s  ROUNDS=3             the latency run (1s: what
#                                          the daemon's devnet runs at)
#   TMPDIR (default /tmp)                  the disk the dealer's index is
#                                          on; the scale run's setup is
#                                          made in /dev/shm and copied
#   KEEP=1                                 keep the temporary directories
# The devnets are ended by their PID.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
keep=
[ "${KEEP:-0}" = 1 ] && keep=--keep

if [ ! -f "$build/meson-private/coredata.dat" ]; then
	meson setup "$build" "$top" --buildtype=release >/dev/null
fi
ninja -C "$build" contrib/devnet/estuaryfs-devnet bench/dealer_scale \
	bench/dealer_latency >/dev/null
DEVNET_BIN=$build/contrib/devnet/estuaryfs-devnet
export DEVNET_BIN

buildtype=$(grep -o '"buildtype", "value": "[a-z]*"' \
	"$build/meson-info/intro-buildoptions.json" | cut -d'"' -f6)
echo "estuaryfs dealer at scale (issue 5): build ${build##*/}" \
	"(${buildtype:-?}), $(nproc) cores, load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"

"$build/bench/dealer_scale" --commits "${COMMITS:-10000}" \
	--sps "${SPS:-16}" --epoch "${EPOCH:-1s}" $keep
"$build/bench/dealer_latency" --epoch "${LATENCY_EPOCH:-1s}" \
	--rounds "${ROUNDS:-3}" $keep
