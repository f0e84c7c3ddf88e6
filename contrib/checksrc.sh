#!/bin/sh
# checksrc.sh - cheap checks of the source tree that the compiler does not
# make (style anchors §2.16, curl's checksrc).  Exits 1 and lists every
# offence when one fails.
#
#   contrib/checksrc.sh [BUILD_DIR]     BUILD_DIR defaults to build/
#
# 1. Every global a static library of BUILD_DIR defines (nm) carries the
#    stem of its file: <stem>_..., or efs_... (cross-cutting plumbing).  A
#    file of a module split over several files, e.g. core/bstore_gc.c next
#    to core/bstore.h and core/bstore_i.h, may also export <module>_...
#    symbols that the module's headers declare: <module>.h,
#    <module>_i.h, or the folder's internal header (fs/fs_i.h for
#    fs/fsops_dir.c).  Names starting with "__" (made by the compiler or
#    a sanitizer) are not looked at.
# 2. No // comments in .c and .h files.
# 3. core/banned.h is the last #include of every .c file of the library
#    and program folders (core, cli, fs, dealer, retrieval).
# 4. No numbered goto labels (err1:, out2:): a label is named for what it
#    undoes.
# 5. Every header opens with a comment (the header is the manual).
set -eu

cd "$(dirname "$0")/.."
build=${1:-build}
status=0

fail()
{
	echo "checksrc: $*" >&2
	status=1
}

# Source files of the tree: tracked and new ones, not build output.
sources()
{
	find . -path ./.git -prune -o -path './build*' -prune -o \
		-path '*/node_modules' -prune -o \
		-type f \( -name '*.c' -o -name '*.h' \) -print |
		sed 's|^\./||' | sort
}

# ---- 1. exported symbols carry the file stem ----

# The directory of the source whose stem is $1 (stems are unique).
source_dir()
{
	f=$(sources | grep -E "(^|/)$1\.c\$" | head -n 1)
	[ -n "$f" ] && dirname "$f"
}

check_symbols()
{
	libs=$(find "$build" -name 'lib*.a' -not -path '*/subprojects/*' |
		sort)
	if [ -z "$libs" ]; then
		fail "no static libraries under $build/: build first"
		return
	fi
	# nm -A: "lib.a:member.o:value type name"; thin archives give the
	# member's path.  Symbols of sanitizer runtimes start with "__".
	for lib in $libs; do
		nm -A -g --defined-only "$lib"
	done | awk '$2 ~ /^[A-Za-z]$/ && $2 != "U" && $2 != "w" &&
		    $3 !~ /^__/ {
			n = split($1, part, ":")
			obj = part[n - 1]
			sub(/.*\//, "", obj)
			sub(/\.c\.o$/, "", obj)
			print obj, $3
		}' | sort -u > "$tmp/symbols"
	while read -r stem sym; do
		case $sym in
		"$stem" | "$stem"_* | efs_*)
			continue ;;
		esac
		module=${stem%%_*}
		dir=$(source_dir "$stem") || dir=
		# A part of a module with a two-word name (mk12_client_msg.c
		# of mk12_client) may export what that module's header declares.
		parent=${stem%_*}
		if [ "$parent" != "$module" ] && [ "$parent" != "$stem" ] &&
		   [ -n "$dir" ]; then
			case $sym in
			"$parent"_*)
				if grep -qsw -- "$sym" "$dir/$parent.h" \
				   "$dir/${parent}_i.h"; then
					continue
				fi ;;
			esac
		fi
		if [ "$module" != "$stem" ] && [ -n "$dir" ]; then
			folder_i="$dir/$(basename "$dir")_i.h"
			case $sym in
			"$module"_*)
				if grep -qsw -- "$sym" "$dir/$module.h" \
				   "$dir/${module}_i.h" "$folder_i"; then
					continue
				fi ;;
			esac
		fi
		fail "${dir:-?}/$stem.c exports $sym: name it ${stem}_..."
	done < "$tmp/symbols"
}

# ---- 2. no // comments ----

# Prints file:line for each // outside comments, strings and chars.
slash_comments()
{
	awk '
	FNR == 1 { block = 0 }
	{
		line = $0
		n = length(line)
		state = block ? "block" : "code"
		for (i = 1; i <= n; i++) {
			c = substr(line, i, 1)
			d = substr(line, i, 2)
			if (state == "block") {
				if (d == "*/") { state = "code"; i++ }
			} else if (state == "str" || state == "chr") {
				if (c == "\\") i++
				else if ((state == "str" && c == "\"") ||
					 (state == "chr" && c == "'\''"))
					state = "code"
			} else if (d == "/*") {
				state = "block"; i++
			} else if (d == "//") {
				print FILENAME ":" FNR ": // comment"
				break
			} else if (c == "\"") {
				state = "str"
			} else if (c == "'\''") {
				state = "chr"
			}
		}
		block = state == "block"
	}' "$@"
}

check_comments()
{
	# shellcheck disable=SC2046
	slash_comments $(sources) > "$tmp/slashes" || true
	while read -r hit; do
		fail "$hit"
	done < "$tmp/slashes"
}

# ---- 3. banned.h comes last ----

check_banned()
{
	for f in $(sources | grep -E '^(core|cli|fs|dealer|retrieval)/[^/]*\.c$'); do
		last=$(grep -E '^[[:space:]]*#[[:space:]]*include' "$f" |
			tail -n 1)
		case $last in
		*'"core/banned.h"'*) ;;
		*) fail "$f: the last #include is not \"core/banned.h\"" ;;
		esac
	done
}

# ---- 4. no numbered labels ----

check_labels()
{
	# shellcheck disable=SC2046
	grep -nE '^[[:space:]]*[A-Za-z_][A-Za-z_0-9]*[0-9]:[[:space:]]*$' \
		$(sources | grep '\.c$') > "$tmp/labels" || true
	while read -r hit; do
		fail "${hit%:}: numbered label (name it for what it undoes)"
	done < "$tmp/labels"
}

# ---- 5. headers open with a comment ----

check_headers()
{
	for f in $(sources | grep '\.h$'); do
		first=$(grep -m 1 -v '^[[:space:]]*$' "$f" || true)
		case $first in
		'/*'*) ;;
		*) fail "$f: does not open with a comment" ;;
		esac
	done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_symbols
check_comments
check_banned
check_labels
check_headers

if [ "$status" -eq 0 ]; then
	echo "checksrc: ok" >&2
fi
exit "$status"
