#!/bin/bash
# test_man.sh - the man pages (docs/estuaryfs.1, docs/estuaryfs-devnet.1)
# are valid roff and do not fall behind the programs:
#
#   - groff -man -ww -z prints no warning for either page;
#   - the version in each page's .TH is `estuaryfs --version`'s;
#   - every command `estuaryfs help` lists has an entry in COMMANDS, and
#     every long option of every `estuaryfs help COMMAND` and every
#     `-o` option of `estuaryfs help mount` appears in the page;
#   - estuaryfs-devnet.1 has every long option and command of
#     `estuaryfs-devnet --help` ($DEVNET_BIN, when built).
#
# Needs groff (Debian: groff-base); skipped (77) without it.  man(1) is
# not used: the pages are rendered with groff -Tascii alone.
. "$(dirname "$0")/lib.sh"

DOCS=$(cd "$(dirname "$0")/../../docs" && pwd)
PAGE=$DOCS/estuaryfs.1
DPAGE=$DOCS/estuaryfs-devnet.1

if ! command -v groff >/dev/null; then
	echo "SKIP: groff is not installed (Debian: groff-base)"
	exit 77
fi

# The page as plain text: no overstriking, no colour, ASCII hyphens.
render()
{
	groff -man -Tascii -P-cbou "$1" 2>/dev/null
}

for p in "$PAGE" "$DPAGE"; do
	warn=$(groff -man -Tutf8 -ww -z "$p" 2>&1)
	check_eq "groff: no warnings in $(basename "$p")" "$warn" ""
done

version=$("$EFS" --version | awk '{ print $2 }')
for p in "$PAGE" "$DPAGE"; do
	th=$(sed -n 's/^\.TH .*"estuaryfs \([^"]*\)".*/\1/p' "$p")
	check_eq "$(basename "$p"): version in .TH" "$th" "$version"
done

render "$PAGE" >"$T/page"
# The COMMANDS section: entry tags are indented by 7 spaces.
sed -n '/^COMMANDS$/,/^[A-Z]/p' "$T/page" >"$T/commands"
efs help >"$T/help" 2>&1 || fail "estuaryfs help exits non-zero"
cmds=$(sed -n '/^commands:/,/^$/p' "$T/help" | awk 'NR > 1 && NF { print $1 }')
[ "$(echo "$cmds" | wc -w)" -ge 20 ] ||
	fail "estuaryfs help lists only: $cmds"
missing=""
for c in $cmds; do
	grep -qE "^       $c( |$)" "$T/commands" || missing="$missing $c"
done
check_eq "every command of estuaryfs help has an entry" "$missing" ""

# Long options of each command's help, and mount's -o options.
missing=""
for c in $cmds; do
	[ "$c" = help ] && continue
	efs help "$c" >"$T/help.$c" 2>&1 || fail "estuaryfs help $c fails"
	for o in $(grep -oE -- '--[a-z][a-z0-9-]*' "$T/help.$c" | sort -u); do
		grep -qE -- "$o([^a-z0-9-]|$)" "$T/page" ||
			missing="$missing $c:$o"
	done
done
# (the option column: lines indented by 5 spaces, up to two spaces or
# a space before a word that does not follow a comma)
for o in $(sed -n '/^  -o OPTIONS/,/^  -h/p' "$T/help.mount" |
	grep -E '^     [a-z]' |
	sed 's/^ *//; s/  .*//; s/\([^,]\) [a-z].*/\1/' | tr ',' '\n' |
	sed 's/=.*//; s/^ *//' | grep -E '^[a-z_]+$' | sort -u); do
	grep -qE -- "(^|[ ,])$o(=|,| |$)" "$T/page" ||
		missing="$missing mount:-o:$o"
done
check_eq "every option of estuaryfs help COMMAND is in the page" "$missing" ""

if [ -n "${DEVNET_BIN:-}" ] && [ -x "$DEVNET_BIN" ]; then
	render "$DPAGE" >"$T/dpage"
	"$DEVNET_BIN" --help >"$T/dhelp" 2>&1
	missing=""
	for o in $(grep -oE -- '--[a-z][a-z0-9-]*' "$T/dhelp" | sort -u) \
		$(sed -n '/^commands:/,/^$/p' "$T/dhelp" |
			awk 'NR > 1 && /^  [a-z]/ { print $1 }'); do
		grep -qE -- "$o([^a-z0-9-]|$)" "$T/dpage" ||
			missing="$missing $o"
	done
	check_eq "every option and command of estuaryfs-devnet --help" \
		"$missing" ""
else
	echo "# no DEVNET_BIN: estuaryfs-devnet's help not compared"
fi
finish
