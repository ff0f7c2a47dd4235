#!/bin/sh
# Runs every unit test program, every CLI test script and the structure checks (dependency
# direction, exported symbols), and ends with one line:
#   N passed, N failed, N skipped
# Unit programs speak TAP (cmocka, CMOCKA_MESSAGE_OUTPUT=TAP); CLI scripts print TAP lines too.
# A program that exits non-zero without reporting a failed test counts as one failure.
set -u
BUILD=${BUILD:-build/rel}
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
export CVMKIT="$PWD/$BUILD/cvmkit" CVMKIT_BUILD="$PWD/$BUILD" CMOCKA_MESSAGE_OUTPUT=TAP
export CVMKIT_SHARED="${CVMKIT_SHARED:-$(cd "$PWD/../shared" 2>/dev/null && pwd)}"
passed=0 failed=0 skipped=0

tally() { # $1 name, $2 log, $3 exit status
	p=$(grep -c '^ok ' "$2" | tr -d ' ')
	s=$(grep -c '^\(not \)\{0,1\}ok .*# SKIP' "$2" | tr -d ' ')
	f=$(grep '^not ok ' "$2" | grep -vc '# SKIP' | tr -d ' ')
	p=$((p - $(grep -c '^ok .*# SKIP' "$2" | tr -d ' ')))
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $1 exited with status $3" >>"$2"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		printf 'FAIL  %-28s %3d passed, %d failed, %d skipped\n' "$1" "$p" "$f" "$s"
		grep -v '^ok ' "$2" | head -40 | sed 's/^/      /'
	else
		printf 'ok    %-28s %3d passed, %d skipped\n' "$1" "$p" "$s"
	fi
	grep '# SKIP' "$2" | sed 's/^.*# SKIP/      skip:/' | sort -u | head -5
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	timeout 900 "$t" >"$LOGS/$name.log" 2>&1
	tally "$name" "$LOGS/$name.log" $?
done
for t in tests/cli/*.sh tests/structure/*.sh; do
	[ -f "$t" ] || continue
	case $t in */lib.sh) continue ;; esac
	dir=$(basename "$(dirname "$t")")
	name=$dir/$(basename "$t" .sh)
	timeout 900 sh "$t" >"$LOGS/$dir-$(basename "$t" .sh).log" 2>&1
	tally "$name" "$LOGS/$dir-$(basename "$t" .sh).log" $?
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
