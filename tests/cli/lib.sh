# Helpers for CLI golden tests (sourced).  Each check prints one TAP line:
#   ok - NAME | not ok - NAME (with the command's stderr as comments) | ok - NAME # SKIP reason
: "${CVMKIT:?run through tests/run-tests.sh or set CVMKIT}"
SHARED=${CVMKIT_SHARED:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# run ARGS...: runs cvmkit; stdout in $T/out, stderr in $T/err, status in $RC.
run() {
	"$CVMKIT" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# check NAME COMMAND...: the command's success decides.
check() {
	name=$1
	shift
	if "$@"; then
		echo "ok - $name"
	else
		echo "not ok - $name"
		echo "# status $RC; stdout:"
		head -20 "$T/out" | sed 's/^/#   /'
		echo "# stderr:"
		head -20 "$T/err" | sed 's/^/#   /'
	fi
}

skip() { echo "ok - $1 # SKIP $2"; }

rc_is() { [ "$RC" -eq "$1" ]; }
out_has() { grep -q -- "$1" "$T/out"; }
err_has() { grep -q -- "$1" "$T/err"; }
out_is() { printf '%s\n' "$1" | cmp -s - "$T/out"; }
