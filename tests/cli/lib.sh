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

# schema_valid SCHEMA FILE: every JSON line of FILE (or FILE as one document) is valid against
# the JSON Schema (python3-jsonschema); the first errors on stderr.  has_jsonschema tells.
has_jsonschema() { python3 -c 'import jsonschema' 2>/dev/null; }
schema_valid() {
	python3 - "$1" "$2" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.Draft202012Validator
text = open(sys.argv[2]).read()
lines = [l for l in text.splitlines() if l.strip()]
docs = [json.loads(l) for l in lines] if text.lstrip().startswith('{"') else [json.loads(text)]
if not docs:
    sys.exit("no document")
for d in docs:
    errors = sorted(cls(schema).iter_errors(d), key=lambda e: list(e.path))
    for e in errors[:5]:
        print("invalid at /%s: %s" % ("/".join(map(str, e.path)), e.message), file=sys.stderr)
    if errors:
        sys.exit(1)
PY
}
