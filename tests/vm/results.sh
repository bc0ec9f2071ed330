# shellcheck shell=bash
# Test results of the tests/vm scripts: source it (kept apart from lib.sh, whose hash stamps the
# cached root file systems).

# check DESCRIPTION CONDITION...: prints "ok - ..." or "not ok - ..." and counts in PASSED/FAILED
PASSED=0
FAILED=0
check() {
	local what=$1
	shift
	if "$@"; then
		PASSED=$((PASSED + 1))
		echo "ok - $what"
	else
		FAILED=$((FAILED + 1))
		echo "not ok - $what"
	fi
}
