# shellcheck shell=bash
# lib.sh - what the interop tests (run.sh, verified_fetch.sh) share:
# installing the npm packages pinned in package-lock.json.  Sourced, not
# run.

# interop_install DIR LOG: `npm ci` in DIR (the tests' folder) once per
# lock file (the stamp node_modules/.efs-installed holds its hash),
# serialised by flock so two builds' test runs never install at the same
# time; npm's output goes to LOG and, on failure, its last lines to
# stdout.  Returns 1 when the packages cannot be installed (no network
# or registry): the caller skips.
interop_install()
{
	local dir=$1 log=$2 stamp want rc=0

	stamp="$dir/node_modules/.efs-installed"
	want=$(sha256sum <"$dir/package-lock.json" | cut -d' ' -f1)
	exec 9<"$dir/package-lock.json"
	flock 9
	if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		echo "interop: npm ci (first run)"
		if (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund \
			--loglevel=error --fetch-timeout=30000 \
			--fetch-retries=1) >"$log" 2>&1; then
			echo "$want" >"$stamp"
		else
			sed 's/^/    npm: /' "$log" | tail -5
			rc=1
		fi
	fi
	flock -u 9
	exec 9<&-
	return $rc
}
