#!/bin/bash
# test_commp.sh - `estuaryfs commp` against known piece commitments.
#
# Expected values: FRC-0069's test payload (127 bytes each of 00, 01, 02,
# 03), the empty payload, 128 and 1024 zero bytes (ipfs-formats.md §10,
# from FRC-0069 and Lotus via go-fil-commp-hashhash), and `seq 1 2000000`
# (14888896 bytes, several worker subtrees); all reproduced with
# @web3-storage/data-segment 5.3.0 (the JS reference).
. "$(dirname "$0")/lib.sh"

# commp_is DESC FILE V1 V2 PAYLOAD PADDED UNPADDED HEIGHT PADDING
commp_is()
{
	desc=$1
	file=$2
	shift 2
	if ! expect 0 "$desc: exit status" -- efs commp "$file"; then
		return
	fi
	cat >"$T/want" <<END
piece_cid_v1:  $1
piece_cid_v2:  $2
payload_size:  $3
padded_size:   $4
unpadded_size: $5
height:        $6
padding:       $7
END
	check_files "$desc: output" "$T/out" "$T/want"
}

printf '' >"$T/empty"
head -c 128 /dev/zero >"$T/z128"
head -c 1024 /dev/zero >"$T/z1024"
for b in 000 001 002 003; do
	head -c 127 /dev/zero | tr '\0' "\\$b"
done >"$T/frc69"
seq 1 2000000 >"$T/seq2m"

commp_is "frc-0069 payload" "$T/frc69" \
	baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi \
	bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi \
	508 512 508 4 0
commp_is "empty payload" "$T/empty" \
	baga6ea4seaqdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy \
	bafkzcibcp4bdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy \
	0 128 127 2 127
commp_is "128 zero bytes" "$T/z128" \
	baga6ea4seaqgiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy \
	bafkzcibcpybwiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy \
	128 256 254 3 126
commp_is "1024 zero bytes (lotus)" "$T/z1024" \
	baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy \
	bafkzcibd6adqn7d6skbjnziw7kw6tbvsr6jnisspes4tkscsem3wu6mqe66br6bt \
	1024 2048 2032 6 1008
commp_is "seq 1 2000000" "$T/seq2m" \
	baga6ea4seaqnugzqtzbdxek6f27wna7axlrfo7ht44jeekzjt4hbxqjhfxpzcaq \
	bafkzcibeycqgwe62dmyj4qr3sfpc5p3gqpqlvysxptz6oescfmuz6dq3yets3x4rai \
	14888896 16777216 16646144 19 1757248

# The same bytes through a pipe, one thread and several.
expect 0 "stdin" -- sh -c "seq 1 2000000 | \"$EFS\" commp - >'$T/pipe'"
grep -q bafkzcibeycqgwe62dmyj4qr3sfpc5p3gqpqlvysxptz6oescfmuz6dq3yets3x4rai \
	"$T/pipe" && pass "stdin: piece cid" || fail "stdin: piece cid"
for j in 1 2 3; do
	expect 0 "-j $j" -- efs commp -j "$j" "$T/seq2m"
	grep -q baga6ea4seaqnugzqtzbdxek6f27wna7axlrfo7ht44jeekzjt4hbxqjhfxpzcaq \
		"$T/out" && pass "-j $j: piece cid" || fail "-j $j: piece cid"
done

# --json carries the same figures.
expect 0 "--json" -- efs commp --json "$T/frc69"
grep -q '"pieceCidV1": "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi"' \
	"$T/out" && grep -q '"paddedSize": 512' "$T/out" &&
	grep -q '"padding": 0' "$T/out" &&
	pass "--json fields" || fail "--json fields: $(cat "$T/out")"

# Errors: one line, stable exit codes.
expect 3 "missing file" -- efs commp "$T/nope"
check_err "missing file message" "^estuaryfs: .*nope"
expect 2 "no argument" -- efs commp
expect 2 "two arguments" -- efs commp "$T/z128" "$T/z128"
expect 2 "bad --threads" -- efs commp -j lots "$T/z128"
expect 5 "a directory" -- efs commp "$T"
check_err "a directory: message" "^estuaryfs: "

finish
