#!/bin/bash
# test_wallet.sh - `estuaryfs wallet`: usage errors; import of Lotus
# key-info (hex from a file, JSON from stdin) and export byte for byte;
# signatures equal to the JS references' (tests/data/filecoin/
# key_vectors.txt: raw and FRC-0102 envelope), verify; new, list and the
# default address; file modes; one-line errors for unsafe modes, corrupt
# key files, unknown addresses and bad hex.
. "$(dirname "$0")/lib.sh"

V="$(dirname "$0")/../data/filecoin/key_vectors.txt"
vec() { sed -n "s/^$1 //p" "$V"; }
W="$ESTUARYFS_HOME/wallet"

expect 0 "wallet --help" -- efs wallet --help
grep -q "^usage: estuaryfs wallet \[show\]" "$T/out" && pass "help: usage" ||
	fail "help: $(head -1 "$T/out")"
# no subcommand is `wallet show` (tests/cli/test_status.sh): with no key
# and no dealer, there is no address to show
expect 3 "no subcommand, no key" -- efs wallet
check_err "no key: one line" "no key yet (estuaryfs wallet new)"
expect 2 "unknown subcommand" -- efs wallet frobnicate
check_err "unknown subcommand: one line" "no subcommand 'frobnicate'"
expect 2 "export without an address" -- efs wallet export
expect 2 "sign with one argument" -- efs wallet sign f1abc
expect 2 "--raw on list" -- efs wallet list --raw
expect 2 "--as-default on new" -- efs wallet new --as-default

expect 0 "list of an empty wallet" -- efs wallet list
check_eq "empty list prints nothing" "$(cat "$T/out")" ""
expect 3 "no default yet" -- efs wallet default
check_err "no default: one line" "no default address"

# Import: hex from a file, as `lotus wallet export` prints it.
zaddr=$(vec zondax.addr)
vec zondax.keyinfo >"$T/zondax.key"
expect 0 "import hex key-info from a file" -- efs wallet import "$T/zondax.key"
check_eq "import prints the address" "$(cat "$T/out")" "$zaddr"
check_eq "wallet dir is 0700" "$(stat -c %a "$W")" 700
check_eq "key file is 0600" "$(stat -c %a "$W/$zaddr")" 600
check_eq "default file is 0600" "$(stat -c %a "$W/default")" 600
expect 0 "default is the first key" -- efs wallet default
check_eq "default address" "$(cat "$T/out")" "$zaddr"
expect 1 "importing it again" -- efs wallet import "$T/zondax.key"
check_err "again: one line" "already in the wallet"
expect 3 "import of a missing file" -- efs wallet import "$T/nope"

# Import: JSON on stdin, and --as-default.
oaddr=$(vec one.addr)
# (stdin comes from files: a pipe would run expect in a subshell)
printf '{"Type":"secp256k1","PrivateKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE="}\n' \
	>"$T/one.json"
expect 0 "import JSON from stdin" -- efs wallet import - <"$T/one.json"
check_eq "JSON import address" "$(cat "$T/out")" "$oaddr"
raddr=$(vec rand.addr)
vec rand.keyinfo >"$T/rand.key"
expect 0 "import --as-default" -- efs wallet import --as-default <"$T/rand.key"
expect 0 "default after --as-default" -- efs wallet default
check_eq "default moved" "$(cat "$T/out")" "$raddr"
expect 0 "set the default back" -- efs wallet default "$zaddr"
expect 0 "default" -- efs wallet default
check_eq "default set" "$(cat "$T/out")" "$zaddr"
echo '{"Type":"bls","PrivateKey":"P2pSgkvsZSgi0LOczuHmSXT1+l/hvSs3fVBb4y8OgVo="}' \
	>"$T/bls.json"
expect 1 "import of a bls key" -- efs wallet import <"$T/bls.json"
check_err "bls: one line" "bls keys are not supported"
echo 'zz' >"$T/garbage"
expect 4 "import of garbage" -- efs wallet import <"$T/garbage"
check_err "garbage: one line" "key-info"

# Export: exactly Lotus's hex.
expect 0 "export" -- efs wallet export "$zaddr"
check_eq "export is the key-info hex" "$(cat "$T/out")" "$(vec zondax.keyinfo)"

# Sign: FRC-0102 by default, --raw as WalletSign; signature bytes are
# type 01 || the reference's 65 bytes.
expect 0 "sign --raw" -- efs wallet sign --raw "$zaddr" 68656c6c6f
check_eq "raw signature" "$(cat "$T/out")" "01$(vec zondax.sig.hello)"
expect 0 "sign (FRC-0102)" -- efs wallet sign "$zaddr" 68656c6c6f
check_eq "FRC-0102 signature" "$(cat "$T/out")" "01$(vec zondax.frc102.hello)"
sig=$(cat "$T/out")
expect 0 "sign an empty message" -- efs wallet sign --raw "$zaddr" ""
check_eq "empty-message signature" "$(cat "$T/out")" "01$(vec zondax.sig.empty)"
expect 0 "sign with the testnet spelling" -- \
	efs wallet sign "t${zaddr#f}" 68656c6c6f
check_eq "same signature" "$(cat "$T/out")" "$sig"

expect 0 "verify" -- efs wallet verify "$zaddr" 68656c6c6f "$sig"
check_eq "verify says valid" "$(cat "$T/out")" valid
expect 4 "verify another message" -- efs wallet verify "$zaddr" 68656c6c6e "$sig"
check_eq "verify says invalid" "$(cat "$T/out")" invalid
expect 4 "verify as another signer" -- efs wallet verify "$oaddr" 68656c6c6f "$sig"
expect 4 "verify raw against the envelope signature" -- \
	efs wallet verify --raw "$zaddr" 68656c6c6f "$sig"
expect 4 "verify a truncated signature" -- \
	efs wallet verify "$zaddr" 68656c6c6f "${sig:0:120}"
expect 2 "verify with bad hex" -- efs wallet verify "$zaddr" 6g "$sig"
expect 2 "sign with odd hex" -- efs wallet sign "$zaddr" 686
check_err "odd hex: one line" "odd number of hex digits"
expect 2 "sign with a bad address" -- efs wallet sign f1nope 00
expect 3 "sign with an unknown address" -- \
	efs wallet sign f1mwvnb5zdvim7upqlhja2zks34ompsys55tbeloi 00
check_err "unknown address: one line" "no key for"

# New and list.
expect 0 "new" -- efs wallet new
naddr=$(cat "$T/out")
case "$naddr" in f1*) pass "new prints an f1 address" ;;
*) fail "new printed '$naddr'" ;; esac
expect 0 "list" -- efs wallet list
check_eq "list has four keys" "$(wc -l <"$T/out")" 4
check_eq "list is sorted" "$(sort "$T/out")" "$(cat "$T/out")"
grep -qx "$naddr" "$T/out" && pass "list has the new key" ||
	fail "list lacks $naddr"
check_eq "new key file is 0600" "$(stat -c %a "$W/$naddr")" 600

# Unsafe modes and corrupt key files: one line each.
chmod 644 "$W/$zaddr"
expect 2 "sign with a 0644 key file" -- efs wallet sign "$zaddr" 00
check_err "0644: one line" "chmod 600"
chmod 600 "$W/$zaddr"
chmod 770 "$W"
expect 2 "a group-writable wallet directory" -- efs wallet list
check_err "0770: one line" "chmod 700"
chmod 700 "$W"
echo garbage >"$W/$naddr"
expect 4 "sign with a corrupt key file" -- efs wallet sign "$naddr" 00
check_err "corrupt: one line" "key file $naddr"
vec one.keyinfo >"$W/$naddr"
expect 4 "sign with another key's file" -- efs wallet sign "$naddr" 00
check_err "misplaced: one line" "holds the key of"
ls -A "$W" | grep -q '^\.' && fail "temporary files left: $(ls -A "$W")" ||
	pass "no temporary files left"

# A repository whose parents do not exist yet: made like `mkdir -p`,
# each new directory 0700.
deep="$T/a/b/c"
expect 0 "new in a repository with missing parents" -- \
	env ESTUARYFS_HOME="$deep" "$EFS" wallet new
daddr=$(cat "$T/out")
check_eq "repository dir is 0700" "$(stat -c %a "$deep")" 700
check_eq "its new parents are 0700" "$(stat -c %a "$T/a" "$T/a/b")" \
	"$(printf '700\n700')"
check_eq "its wallet dir is 0700" "$(stat -c %a "$deep/wallet")" 700
check_eq "its key file is 0600" "$(stat -c %a "$deep/wallet/$daddr")" 600
expect 0 "list there" -- env ESTUARYFS_HOME="$deep" "$EFS" wallet list
check_eq "list there has the key" "$(cat "$T/out")" "$daddr"
check_eq "no blockstore made for the wallet" "$(ls "$deep")" wallet
touch "$T/plain"
expect 5 "a repository under a regular file" -- \
	env ESTUARYFS_HOME="$T/plain/repo" "$EFS" wallet list
check_err "under a file: one line" "cannot create repository"
expect 2 "a repository that is a regular file" -- \
	env ESTUARYFS_HOME="$T/plain" "$EFS" wallet list
check_err "a file: one line" "is not a directory"

finish
