# Progress of long operations: a line on a terminal's stderr (script(1) provides a pseudo-
# terminal), nothing when stderr is redirected or with --quiet, and clean output either way.
. tests/cli/lib.sh

FW=$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin
A=$SHARED/vectors/attest
JUNE=2025-06-01T00:00:00Z
ESC=$(printf '\033')
CR=$(printf '\r')

if [ ! -f "$FW" ]; then
	skip "progress" "fixture $FW is missing"
	exit 0
fi

# A 64 MiB initrd (8 chunks of hashing) and a small kernel, generated here.
head -c $((64 << 20)) /dev/zero | tr '\0' 'i' >"$T/initrd.img"
head -c 100000 /dev/zero | tr '\0' 'k' >"$T/vmlinuz"
MEASURE="measure --firmware $FW --cpu EPYC-v4 --vcpus 1 --kernel $T/vmlinuz --initrd $T/initrd.img --format hex"

# on_tty ARGS...: cvmkit ARGS on a pseudo-terminal (stdout and stderr); everything it wrote in
# $T/tty, its status in $RC.
on_tty() {
	cmd="'$CVMKIT'"
	for a in "$@"; do
		cmd="$cmd '$a'"
	done
	script -qec "$cmd" "$T/tty" </dev/null >/dev/null 2>&1
	RC=$?
	# the typescript's first and last lines are script's own
	sed -i '1d;$d' "$T/tty"
	cp "$T/tty" "$T/out"
}

tty_has() { grep -q -- "$1" "$T/tty"; }
no_escapes() { ! grep -q "[$ESC$CR]" "$1"; }

# shellcheck disable=SC2086
run $MEASURE
check "measure: stderr redirected: no progress, nothing on stderr" \
	eval 'rc_is 0 && [ ! -s "$T/err" ] && no_escapes "$T/out"'
want=$(cat "$T/out")

if ! command -v script >/dev/null 2>&1; then
	skip "progress on a terminal" "script(1) is not installed"
	exit 0
fi

# shellcheck disable=SC2086
on_tty $MEASURE
check "measure on a terminal: a progress line for the initrd" \
	eval 'rc_is 0 && tty_has "hashing initrd.img: [0-9]*% ([0-9.]*/64.0 MiB)"'
check "measure on a terminal: the line is erased before the result, which is unchanged" \
	eval 'tr -d "$CR" <"$T/tty" | sed "s/.*$ESC\[K//" | grep -qx "$want"'

# shellcheck disable=SC2086
on_tty --quiet $MEASURE
check "measure --quiet on a terminal: no progress" \
	eval 'rc_is 0 && ! tty_has "hashing" && ! tty_has "$ESC" && tty_has "$want"'

# Batch verify: "verifying N/M" on a terminal, only for more than one file.
Q=$A/confidential-containers-trustee/tdx
if [ -f "$Q/tdx_quote_5.dat" ] && [ -f "$Q/tdx_quote_6.dat" ]; then
	on_tty verify "$Q/tdx_quote_5.dat" "$Q/tdx_quote_6.dat" --at $JUNE --json --allow-unevaluated tcb-status,qe-identity
	check "verify batch on a terminal: counts the files" \
		eval 'rc_is 0 && tty_has "verifying 1/2" && [ $(grep -c "\"verdict\":\"pass\"" "$T/tty") -eq 2 ]'
	check "verify batch on a terminal: each verdict starts on a clean line" \
		eval '! grep -q "verifying [0-9/]*{" "$T/tty"'
	run verify "$Q/tdx_quote_5.dat" "$Q/tdx_quote_6.dat" --at $JUNE --json --allow-unevaluated tcb-status,qe-identity
	check "verify batch, stderr redirected: no progress" \
		eval 'rc_is 0 && [ ! -s "$T/err" ] && no_escapes "$T/out"'
	on_tty --quiet verify "$Q/tdx_quote_5.dat" "$Q/tdx_quote_6.dat" --at $JUNE --json --allow-unevaluated tcb-status,qe-identity
	check "verify batch --quiet on a terminal: no progress" \
		eval 'rc_is 0 && ! tty_has "verifying"'
	on_tty verify "$Q/tdx_quote_5.dat" --at $JUNE --json --allow-unevaluated tcb-status,qe-identity
	check "verify of one file on a terminal: no progress" \
		eval 'rc_is 0 && ! tty_has "verifying"'
else
	skip "verify batch progress" "TDX quotes missing under $Q"
fi

# Launch: the pre-fault line (where the host pre-faults at all) never survives into the output.
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	on_tty launch examples/default-vm.json --format hex
	check "launch on a terminal: no progress left in the output" \
		eval 'rc_is 0 && tty_has "launched " && ! tr -d "$CR" <"$T/tty" | sed "s/.*$ESC\[K//" | grep -q "pre-faulting"'
	run launch examples/default-vm.json --format hex
	check "launch, stderr redirected: no progress" \
		eval 'rc_is 0 && ! grep -q "pre-faulting" "$T/err" && no_escapes "$T/err"'
else
	skip "launch progress" "no usable /dev/kvm"
fi
