#!/bin/sh
# check.sh - build estuaryfs with warnings as errors and run the whole test
# suite twice: once normally (build/) and once under AddressSanitizer and
# UBSan (build-asan/).  Installs the Debian packages it needs first.
#
#   contrib/check.sh                  everything (what CI runs)
#   EFS_BUILD=build-x contrib/check.sh    other build directories
#   EFS_NO_ASAN=1 contrib/check.sh    skip the sanitizer pass
#
# Extra arguments go to `meson test` (e.g. --suite core).  Fuzzing proper
# (clang, libFuzzer) is separate: see README.md; the fuzz targets' seed
# corpora are replayed by the normal suite.
set -eu

cd "$(dirname "$0")/.."
contrib/install-deps.sh

build=${EFS_BUILD:-build}

# setup DIR [meson options...]: configure DIR, reconfiguring it when it
# already holds a build tree.
setup()
{
	dir=$1
	shift
	if [ -f "$dir/meson-private/coredata.dat" ]; then
		meson setup --reconfigure "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
}

run()
{
	dir=$1
	shift
	echo "== $dir: build" >&2
	ninja -C "$dir"
	echo "== $dir: test" >&2
	meson test -C "$dir" --print-errorlogs "$@"
}

setup "$build" --werror -Dtests=enabled
run "$build" "$@"
echo "== $build: checksrc" >&2
contrib/checksrc.sh "$build"

# -O3 sees more of -Wmaybe-uninitialized and -Wformat-truncation than the
# default -O2 build does: make sure a release build is warning-free too.
echo "== $build-release: build" >&2
setup "$build-release" --werror -Dtests=enabled --buildtype=release
ninja -C "$build-release"

if [ -z "${EFS_NO_ASAN:-}" ]; then
	setup "$build-asan" --werror -Dtests=enabled \
		-Db_sanitize=address,undefined -Db_lundef=false
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		run "$build-asan" "$@"
fi
echo "check: all passed" >&2
