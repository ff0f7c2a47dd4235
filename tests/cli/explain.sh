# cvmkit explain: planted differences found in real firmware (Debian's OVMF): 7 vCPUs, a Genoa
# CPU model, the ec2 profile, DebugSwap, another firmware of the folder, kernel hashes off; a
# report whose signature does not verify; nothing found; TDX MRTD page order and the per-event
# table of a changed event log.
. tests/cli/lib.sh

DEB=/usr/share/OVMF/OVMF_CODE.fd
UNI=/usr/share/ovmf/OVMF.fd
A=$SHARED/vectors/attest/confidential-containers-trustee
E=$SHARED/vectors/eventlog/confidential-containers-trustee
AMDSEV=$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin

run explain --help
check "explain --help names the options and the exit status" eval \
	'rc_is 0 && out_has "^usage: cvmkit explain EVIDENCE --policy POLICY" && out_has "--firmware-dir DIR" && out_has "0 an explanation was found"'
run explain --measurement "$(printf '%096d' 0)"
check "explain without --policy is a usage error" eval 'rc_is 2 && err_has "policy POLICY is required"'
run explain --policy x.json --measurement 0011
check "explain --measurement takes 96 hex digits" eval 'rc_is 2 && err_has "expected 96 hex digits"'
run explain ev.bin --policy x.json --measurement "$(printf '%096d' 0)"
check "explain with evidence and --measurement is a usage error" eval 'rc_is 2 && err_has "one of them"'

if [ ! -f "$DEB" ] || [ ! -f "$UNI" ]; then
	skip "explain on Debian's OVMF" "$DEB or $UNI missing (Debian package ovmf)"
	exit 0
fi

mkdir "$T/fw"
cp "$UNI" "$T/fw/OVMF.fd"
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] && cp /usr/share/OVMF/OVMF_CODE_4M.fd "$T/fw/"
echo "not firmware" >"$T/fw/README"
cat >"$T/p.json" <<JSON
{"version": 1, "tee": "snp", "vmm": "qemu", "cpus": {"count": 2, "model": "EPYC-Milan"},
 "firmware": {"path": "$DEB"}}
JSON
digest() { "$CVMKIT" measure "$T/p.json" --format hex "$@"; }

M=$(digest)
run explain --policy "$T/p.json" --measurement "$M"
check "the policy's own measurement: nothing differs, exit 0" eval \
	'rc_is 0 && out_has "^  the policy reproduces it: nothing differs"'

M=$(digest --vcpus 7)
run explain --policy "$T/p.json" --measurement "$M"
check "7 vCPUs: one change, vcpus 2 -> 7" eval \
	'rc_is 0 && out_has "^  reproduced with 1 change:" && out_has "^    vcpus  *2 -> 7$" &&
	 out_has "^  searched: [0-9]* of [0-9]* candidates (vCPUs 1..512 x 5 CPU signatures"'

M=$(digest --cpu EPYC-Genoa)
run explain --policy "$T/p.json" --measurement "$M"
check "a Genoa model: the CPU change, with every model of that signature" eval \
	'rc_is 0 && out_has "^  reproduced with 1 change:" && out_has "^    cpus  *EPYC-Milan, EPYC-Milan-v1, EPYC-Milan-v2 (signature 0x00a00f11) -> EPYC-Genoa, EPYC-Genoa-v1 (signature 0x00a10f10)$"'

M=$(digest --vmm ec2)
run explain --policy "$T/p.json" --measurement "$M"
check "the ec2 profile: vmm qemu -> ec2" eval \
	'rc_is 0 && out_has "^  reproduced with 1 change:" && out_has "^    vmm  *qemu -> ec2$"'

M=$(digest --guest-features 0x21)
run explain --policy "$T/p.json" --measurement "$M"
check "DebugSwap: guest features 0x1 -> 0x21 named" eval \
	'rc_is 0 && out_has "^    snp.guest_features  *0x1 (SNPActive) -> 0x21 (SNPActive+DebugSwap)"'

M=$(digest --firmware "$T/fw/OVMF.fd")
run explain --policy "$T/p.json" --measurement "$M" --firmware-dir "$T/fw"
check "another firmware of the folder: firmware -> that file; the others skipped or refused" eval \
	'rc_is 0 && out_has "^    firmware  *$DEB -> $T/fw/OVMF.fd$" && out_has "^  not a firmware candidate: .*README" &&
	 out_has "x 2 firmware images)"'

M=$(digest --vcpus 7 --cpu EPYC-Genoa --guest-features 0x21)
run explain --policy "$T/p.json" --measurement "$M" --json
check "three planted changes found together (--json)" eval \
	'rc_is 0 && python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
m = d[\"measurement\"]
assert d[\"tee\"] == \"snp\" and m[\"found\"], d
assert sorted(c[\"input\"] for c in m[\"changes\"]) == [\"cpus\", \"snp.guest_features\", \"vcpus\"], m
assert m[\"searched\"] <= m[\"space\"] and m[\"space\"] == 512 * 7 * 8, m
" "$T/out"'

M=$(printf '%096d' 0)
run explain --policy "$T/p.json" --measurement "$M"
check "nothing in the space reproduces it: exit 1, the size of the search said" eval \
	'rc_is 1 && out_has "^  no combination in the searched space reproduces the MEASUREMENT" && out_has "^  searched: 28672 of 28672 candidates"'

# A real report with MEASUREMENT replaced: its signature no longer verifies
if [ -f "$A/snp/test-report.bin" ]; then
	M=$(digest --vcpus 7)
	python3 - "$A/snp/test-report.bin" "$M" "$T/report.bin" <<'PY'
import sys
r = bytearray(open(sys.argv[1], "rb").read())
r[0x90:0xc0] = bytes.fromhex(sys.argv[2])
open(sys.argv[3], "wb").write(r)
PY
	run explain "$T/report.bin" --policy "$T/p.json"
	check "a report whose signature does not verify: said, and explained anyway" eval \
		'rc_is 0 && out_has "^explain: .*report.bin: SEV-SNP attestation report" &&
		 out_has "^  signature: does NOT verify; the diagnosis concerns the measurement only" &&
		 out_has "^    vcpus  *2 -> 7$"'
fi

# Kernel hashes on/off (the AmdSev build carries the hashes table)
if [ -f "$AMDSEV" ]; then
	head -c 65536 /dev/urandom >"$T/vmlinuz"
	cat >"$T/pk.json" <<JSON
{"version": 1, "tee": "snp", "cpus": {"count": 1, "model": "EPYC-Milan"},
 "firmware": {"path": "$AMDSEV"}, "boot": {"kernel": "$T/vmlinuz", "cmdline": "console=ttyS0"}}
JSON
	M=$("$CVMKIT" measure --firmware "$AMDSEV" --cpu EPYC-Milan --format hex)
	run explain --policy "$T/pk.json" --measurement "$M"
	check "kernel hashes off: found" eval \
		'rc_is 0 && out_has "^    kernel_hashes  *on (kernel, initrd and command line measured) -> off"'
fi

# ---- TDX ----------------------------------------------------------------------------------
cat >"$T/t.json" <<JSON
{"version": 1, "tee": "tdx", "firmware": {"path": "$UNI"}}
JSON
M=$("$CVMKIT" measure "$T/t.json" --format hex)
cat >"$T/t2.json" <<JSON
{"version": 1, "tee": "tdx", "firmware": {"path": "$UNI"}, "tdx": {"measure_order": "two-pass"}}
JSON
M2=$("$CVMKIT" measure "$T/t2.json" --format hex)
run explain --policy "$T/t.json" --mrtd "$M2"
check "TDX MRTD of the two-pass page order: tdx.measure_order named" eval \
	'rc_is 0 && out_has "^    tdx.measure_order  *single-pass .* -> two-pass"'

if [ -f "$E/CCEL_data_ovmf" ]; then
	run explain --policy "$T/t.json" --mrtd "$M" --eventlog "$E/CCEL_data_ovmf"
	check "TDX event log: per-event table, the CFV named, the layout <=202408" eval \
		'rc_is 0 && out_has "^  firmware generation: the log fits edk2 <=202408 best (4 of 4" &&
		 out_has "^  RTMR0  MATCH    TD HOB  .*\[0\] EV_EFI_HANDOFF_TABLES2" &&
		 out_has "^  RTMR0  DIFFER   CFV  " && out_has "^  RTMR0  EXTRA    ACPI  .*\[8\] EV_PLATFORM_CONFIG_FLAGS ACPI DATA" &&
		 out_has "^  RTMR0  MATCH    boot entry  *BootOrder" && out_has "^  RTMR2  EXTRA    cmdline"'
	# a changed log (temp copy): BootOrder's digest and the SecureBoot variable's
	cp "$E/CCEL_data_ovmf" "$T/log"
	python3 - "$T/log" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
for off in (0x4ee + 14, 0x129 + 20):
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 1]))
PY
	run explain --policy "$T/t.json" --mrtd "$M" --eventlog "$T/log" --json
	check "a changed log: the differing events named by input (--json)" eval \
		'rc_is 0 && python3 -c "
import json, sys
ev = json.load(open(sys.argv[1]))[\"rtmr\"][\"events\"]
differ = [(e[\"event\"], e[\"input\"]) for e in ev if e[\"status\"] == \"DIFFER\"]
assert differ == [(1, \"CFV\"), (2, \"variable\"), (12, \"boot entry\")], differ
" "$T/out"'
	# a quote with its own RTMRs: the replay is compared too
	if [ -f "$A/tdx/tdx_quote_5.dat" ]; then
		run explain "$A/tdx/tdx_quote_5.dat" --policy "$T/t.json" --eventlog "$E/CCEL_data_ovmf"
		check "a real quote: its signature checked, MRTD not reproduced (exit 1), replay compared" eval \
			'rc_is 1 && out_has "^  signature: verifies" && out_has "^  RTMR0: the log replays to another value than the quote.s"'
	fi
fi
