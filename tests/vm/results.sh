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

# The guest's output, as boot.sh hands it back: a whole line, a pattern, no such pattern.
has() { grep -qxF -- "$1" "$2"; }
has_re() { grep -qE -- "$1" "$2"; }
lacks_re() { ! grep -qE -- "$1" "$2"; }

# work_dir NAME: a fresh $WORK, removed on exit unless a check failed or KEEP=1 (then named)
work_dir() {
	WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/vfio-claim-$1.XXXXXX")
	trap 'if ((FAILED == 0)) && [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$WORK"; else log "work directory kept: $WORK"; fi' EXIT
}

# build_deb: the package of the tree at $TOP, built in $WORK; prints the path of the .deb
build_deb() {
	local src=$WORK/src
	mkdir -p "$src"
	(cd "$TOP" && git ls-files -z | xargs -0 cp --parents -t "$src") 2>/dev/null ||
		cp -a "$TOP/." "$src/"
	(cd "$src" && dpkg-buildpackage -us -uc -b >"$WORK/dpkg-buildpackage.log" 2>&1) ||
		die "dpkg-buildpackage failed, see $WORK/dpkg-buildpackage.log"
	ls "$WORK"/vfio-claim_*.deb
}

# no_host_probe OUTPUT: the guest listed the devices on vfio-pci ("CHECK probes ADDR N STAGE"), at
# least one claimed in the initramfs, and the kernel log has no line of another driver (N) about
# any of those (one claimed later, at the udev stage, may have met its host driver first)
no_host_probe() {
	grep -qE '^CHECK probes [^ ]+ [0-9]+ initramfs$' "$1" &&
		! grep -qE '^CHECK probes [^ ]+ [1-9][0-9]* initramfs$' "$1"
}

# journal_before OUTPUT A B: the guest's journal times "CHECK journal A T" and "... B T" are there,
# and A's is earlier than B's
journal_before() {
	local a b
	a=$(sed -n "s/^CHECK journal $2 //p" "$1" | head -n 1)
	b=$(sed -n "s/^CHECK journal $3 //p" "$1" | head -n 1)
	[[ -n "$a" && -n "$b" ]] && awk -v a="$a" -v b="$b" 'BEGIN { exit !(a + 0 < b + 0) }'
}
