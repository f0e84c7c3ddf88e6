#!/bin/sh
# install-deps.sh - install the Debian 12 packages estuaryfs needs to build
# and test.  Reruns are fast: apt is skipped when every package is already
# installed.  Runs apt through sudo when not root.
#
#   contrib/install-deps.sh           build + test dependencies
#
# The mount tests drive real tools: attr (getfattr/setfattr), rsync, git,
# sqlite3 and tar.  The build embeds the dashboard with python3; its test
# opens it in headless chromium.  groff-base checks the man pages.  wrk
# is only for bench/api_load.sh (no test uses it).
#
# Node.js is only needed by the interop tests and the JS side of the
# benchmark; it is installed from Debian only when no `node` is on PATH
# (Debian's npm package conflicts with NodeSource's nodejs, which already
# ships npm).
set -eu

PKGS="build-essential gcc meson ninja-build pkg-config
libssl-dev libb2-dev libsqlite3-dev libcunit1-dev
libfuse3-dev fuse3 libcurl4-openssl-dev libjansson-dev
libsecp256k1-dev libmicrohttpd-dev
clang
attr rsync git sqlite3 tar coreutils curl
python3 chromium groff-base
wrk"

if ! command -v node >/dev/null 2>&1; then
	PKGS="$PKGS nodejs npm"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps: need root or sudo to install:$missing" >&2
	exit 1
fi

echo "install-deps: installing:$missing" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends $missing
