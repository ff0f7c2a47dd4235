# Inputs are capped while they are read (docs/limits.md "Inputs"): a FIFO fed without end by a
# writer process is read up to the input's cap and refused with a message naming the cap, in
# bounded memory (the address space is limited below what reading it all would take).
. tests/cli/lib.sh

# feed NAME: a FIFO $T/NAME with a writer that writes until the reader goes away.
feed() {
	rm -f "$T/$1"
	mkfifo "$T/$1"
	yes 'cvmkit input cap test line' >"$T/$1" 2>/dev/null &
	FEEDER=$!
}

# bounded ARGS...: run cvmkit with at most 1 GiB of address space (not under the sanitizers,
# whose shadow memory needs more), so that reading a FIFO to its end would fail differently.
bounded() {
	if [ "${SANITIZE:-0}" = 0 ]; then
		(ulimit -v 1048576 && "$CVMKIT" "$@" >"$T/out" 2>"$T/err")
	else
		"$CVMKIT" "$@" >"$T/out" 2>"$T/err"
	fi
	RC=$?
	kill "$FEEDER" 2>/dev/null
	wait "$FEEDER" 2>/dev/null
}

feed policy.json
bounded policy check "$T/policy.json"
check "policy check of an endless FIFO stops at the 1 MiB policy cap" \
	eval 'rc_is 1 && err_has "policy.json: larger than 1 MiB, the cap for this input"'

feed report.bin
bounded verify "$T/report.bin"
check "verify of an endless FIFO stops at the 16 MiB evidence cap" \
	eval 'rc_is 1 && out_has "larger than 16 MiB, the cap for this input"'

feed fw.fd
printf '{"version": 1, "tee": "snp", "firmware": {"path": "%s"}}\n' "$T/fw.fd" >"$T/snp.json"
bounded measure "$T/snp.json"
check "measure with an endless FIFO as firmware stops at the 64 MiB firmware cap" \
	eval 'rc_is 1 && err_has "fw.fd: larger than 64 MiB, the cap for this input"'

# A policy that fits is read from a FIFO like a file.
rm -f "$T/ok.json"; mkfifo "$T/ok.json"
printf '{"version": 1, "tee": "none"}\n' >"$T/ok.json" &
run policy check "$T/ok.json"
wait
check "policy check reads a policy from a FIFO" eval 'rc_is 0 && out_has ": ok ("'

# A regular file over the cap is refused before it is read.
yes '                                                               ' | head -c 1048577 >"$T/big.json"
run policy check "$T/big.json"
check "policy check refuses a regular file over 1 MiB" \
	eval 'rc_is 1 && err_has "big.json: larger than 1 MiB"'

run policy check "$T"
check "policy check refuses a directory" eval 'rc_is 1 && err_has "is a directory"'
