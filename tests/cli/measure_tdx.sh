# cvmkit measure on TDX policies: MRTD of Debian's OVMF.fd in both orderings, refusals of the
# split and 4 MiB builds (VECTORS.md section A).
. tests/cli/lib.sh

MRTD_SINGLE=4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47
MRTD_TWO=acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1
OVMF=/usr/share/ovmf/OVMF.fd
OVMF_CODE=/usr/share/OVMF/OVMF_CODE.fd
OVMF_CODE_4M=/usr/share/OVMF/OVMF_CODE_4M.fd

# policy FILE FIRMWARE [MEASURE_ORDER]
policy() {
	order=${3:-single-pass}
	cat >"$1" <<EOF
{
  "version": 1,
  "name": "tdx-test",
  "tee": "tdx",
  "vmm": "qemu",
  "cpus": {"count": 1},
  "memory": {"size": "2G"},
  "firmware": {"path": "$2"},
  "tdx": {"attributes": {"debug": false, "sept_ve_disable": true}, "xfam": "0xe7",
          "measure_order": "$order"}
}
EOF
}

names="single-pass MRTD|two-pass MRTD|json document|inputs use the snake_case keys of SNP documents|OVMF_CODE.fd refused|OVMF_CODE_4M.fd refused"
skip_all() {
	echo "$names" | tr '|' '\n' | while read -r n; do skip "measure tdx: $n" "$1"; done
	exit 0
}

[ -r "$OVMF" ] || skip_all "$OVMF not installed (package ovmf)"
policy "$T/tdx.json" "$OVMF"
run measure "$T/tdx.json" --format hex
if grep -q "not available in this build" "$T/err"; then
	skip_all "cvmkit measure is not built yet (launcher/cli/cmd_measure.c)"
fi

check "measure tdx: single-pass MRTD" eval 'rc_is 0 && out_is "$MRTD_SINGLE"'

policy "$T/tdx2.json" "$OVMF" two-pass
run measure "$T/tdx2.json" --format hex
check "measure tdx: two-pass MRTD" eval 'rc_is 0 && out_is "$MRTD_TWO"'

run measure "$T/tdx.json"
check "measure tdx: json document" eval 'rc_is 0 && out_has "$MRTD_SINGLE" && out_has "single-pass" && out_has "needs ACPI tables"'
check "measure tdx: inputs use the snake_case keys of SNP documents" eval 'rc_is 0 && out_has "\"firmware_sha256\": \"7b456907" && out_has "\"vcpus\": 1," && out_has "\"memory_size\": 2147483648" && out_has "\"measure_order\": \"single-pass\"" && ! grep -q "\"\(firmware\|cpus\|memory\|tdx\|boot\)\.[a-z_.]*\":" "$T/out"'

if [ -r "$OVMF_CODE" ]; then
	policy "$T/code.json" "$OVMF_CODE"
	run measure "$T/code.json" --format hex
	check "measure tdx: OVMF_CODE.fd refused" eval 'rc_is 1 && err_has "use the unified OVMF.fd" && [ ! -s "$T/out" ]'
else
	skip "measure tdx: OVMF_CODE.fd refused" "$OVMF_CODE not installed"
fi
if [ -r "$OVMF_CODE_4M" ]; then
	policy "$T/code4m.json" "$OVMF_CODE_4M"
	run measure "$T/code4m.json" --format hex
	check "measure tdx: OVMF_CODE_4M.fd refused" eval 'rc_is 1 && err_has "no TDX metadata" && [ ! -s "$T/out" ]'
else
	skip "measure tdx: OVMF_CODE_4M.fd refused" "$OVMF_CODE_4M not installed"
fi
if [ -r /usr/share/ovmf/OVMF.fd ]; then
	run --verbose measure examples/tdx.json --format hex
	check "measure --verbose lists the plan on stderr, the digest alone on stdout" eval 'rc_is 0 && err_has "^plan: tee tdx" && err_has "TD_HOB *gpa 0x000809000" && [ $(wc -l <"$T/out") -eq 1 ]'
else
	skip "measure --verbose" "/usr/share/ovmf/OVMF.fd not installed"
fi

# A BFV whose memory size is huge: inspect calls it invalid and measure refuses it at once
# (it used to loop in the MRTD model) (issue 12).
SYNTH=${SHARED:+$SHARED/vectors/tdx/synth_tdvf.bin}
if [ -n "$SYNTH" ] && [ -r "$SYNTH" ]; then
	python3 - "$SYNTH" "$T/huge-bfv.fd" <<'PY'
import struct, sys
img = bytearray(open(sys.argv[1], 'rb').read())
struct.pack_into('<Q', img, 0xf000 + 16 + 16, 0xfffffff0000)  # section 0 (BFV): memory size
open(sys.argv[2], 'wb').write(img)
PY
	run inspect "$T/huge-bfv.fd"
	check "inspect calls a BFV larger than its image invalid (exit 1)" eval 'rc_is 1 && out_has "TDX metadata: invalid" && out_has "exceeds raw size"'
	policy "$T/huge.json" "$T/huge-bfv.fd"
	run measure "$T/huge.json" --tee tdx
	check "measure refuses a BFV larger than its image instead of measuring it for ever" eval 'rc_is 1 && err_has "exceeds the raw data" && [ ! -s "$T/out" ]'
else
	skip "inspect calls a BFV larger than its image invalid" "synth_tdvf.bin vector missing"
	skip "measure refuses a BFV larger than its image" "synth_tdvf.bin vector missing"
fi
