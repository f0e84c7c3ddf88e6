#!/bin/sh
# gen-vectors.sh - regenerate vectors.txt with the JS oracle
# (@web3-storage/data-segment 5.3.0 through oracle/commp.mjs).
#
#   sh tests/data/commp/gen-vectors.sh ORACLE_DIR > tests/data/commp/vectors.txt
#
# ORACLE_DIR holds commp.mjs and its node_modules.  Needs cc and node.
set -eu
oracle=${1:?usage: gen-vectors.sh ORACLE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/fill_random" "$here/fill_random.c"

# source length: "rand:SEED" = harness_fill_random(buf, LEN, SEED); "zero"
row() {
	case $1 in
	zero) head -c "$2" /dev/zero >"$tmp/in" ;;
	rand:*) "$tmp/fill_random" "${1#rand:}" "$2" >"$tmp/in" ;;
	esac
	node "$oracle/commp.mjs" "$tmp/in" --json | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
		const o = JSON.parse(s);
		console.log([process.argv[1], o.payloadSize, o.paddedSize,
			o.unpaddedSize, o.height, o.padding, o.pieceCidV1,
			o.pieceCidV2].join(" ")) })' "$1"
}

echo "# CommP vectors from @web3-storage/data-segment 5.3.0 (see README.md)."
echo "# source payload padded unpadded height padding piece_cid_v1 piece_cid_v2"
for n in 0 1 2 3 64 65 126 127 128 129 200 253 254 255 256 381 508 509 777 \
	1016 1017 1024 2032 2033 4064 4065 8128 12345 65535 65536 99999 \
	130048 130049 314159 1048575 1048576 1048577 2080767 2080768 2080769 \
	2718281 3121152 4161664 9999999 67108864; do
	row rand:1 "$n"
done
for n in 1 126 1000 260096; do
	row rand:2 "$n"
done
for n in 0 127 128 1024 4096 1048576; do
	row zero "$n"
done
