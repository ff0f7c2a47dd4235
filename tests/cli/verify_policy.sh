# cvmkit verify --policy: the VM policy gives the expected measurement (as measure computes it)
# and the verifier rules of its "verify" section; options override; secure defaults.
. tests/cli/lib.sh

A=$SHARED/vectors/attest
TR=$A/confidential-containers-trustee
JUNE=2025-06-01T00:00:00Z
EX=$PWD/examples

if [ ! -d "$A" ]; then
	skip "verify --policy vectors" "$A is missing"
	exit 0
fi

# A policy measuring a firmware image the test carries (OVMF suffix with SEV metadata).
snp_policy() { # $1: the verify section (JSON) or empty
	cat >"$T/snp.json" <<EOT
{"version": 1, "tee": "snp", "cpus": {"model": "EPYC-Milan"},
 "firmware": {"path": "$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin"}$1}
EOT
}

snp_policy ""
run measure "$T/snp.json" --format hex
want=$(cat "$T/out")
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --policy "$T/snp.json"
check "--policy expects the measurement measure computes" \
	eval 'rc_is 1 && out_has "fail  measurement .*expected $(echo $want | cut -c1-16)" && out_has "pass  signature"'
check "--policy: secure defaults are checked (VMPL 0, MIGRATE_MA, CXL)" \
	eval 'out_has "pass  vmpl" && out_has "pass  migrate-ma" && out_has "pass  cxl" && out_has "pass  cert-tcb"'

if [ -r /usr/share/OVMF/OVMF_CODE.fd ]; then
	run measure "$EX/snp-qemu.json" --format hex
	want=$(cut -c1-16 "$T/out")
	run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --policy "$EX/snp-qemu.json"
	check "examples/snp-qemu.json end to end: rules pass, its measurement is expected" \
		eval 'rc_is 1 && out_has "fail  measurement .*expected $want" && out_has "pass  committed-firmware" && out_has "pass  vmpl"'
else
	skip "examples/snp-qemu.json end to end" "/usr/share/OVMF/OVMF_CODE.fd is missing"
fi
if [ -r /usr/share/ovmf/OVMF.fd ]; then
	run measure "$EX/tdx.json" --format hex
	want=$(cut -c1-16 "$T/out")
	run verify "$TR/tdx/tdx_quote_5.dat" --at $JUNE --policy "$EX/tdx.json"
	check "examples/tdx.json end to end: rules pass, its MRTD is expected" \
		eval 'rc_is 1 && out_has "fail  mrtd .*expected $want" && out_has "pass  td-attributes-bits" && out_has "pass  xfam-fixed" && out_has "pass  sept-ve-disable"'
else
	skip "examples/tdx.json end to end" "/usr/share/ovmf/OVMF.fd is missing"
fi

# The policy's rules, then an option overriding them.
snp_policy ', "verify": {"snp": {"require_committed": true, "min_guest_svn": 5, "family_id": "01000000000000000000000000000000"}}'
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --policy "$T/snp.json"
check "policy rules: provisional firmware, GUEST_SVN 4 < 5 and FAMILY_ID checked" \
	eval 'rc_is 1 && out_has "fail  committed-firmware" && out_has "fail  guest-svn .*GUEST_SVN 4, minimum 5" && out_has "pass  family-id"'

snp_policy ', "verify": {"snp": {"vmpl": [0]}}'
run verify "$TR/snp/test-vlek-report.bin" --certs "$TR/snp/test-vlek.der" --at $JUNE --policy "$T/snp.json"
check "policy VMPL 0 refuses the VMPL 1 report" eval 'rc_is 1 && out_has "fail  vmpl"'
run verify "$TR/snp/test-vlek-report.bin" --certs "$TR/snp/test-vlek.der" --at $JUNE --policy "$T/snp.json" --vmpl 1
check "--vmpl overrides the policy" eval 'out_has "pass  vmpl"'

run verify "$TR/tdx/tdx_quote_4.dat" --at $JUNE --allow debug --allow-unevaluated tcb-status,qe-identity
check "--allow debug accepts the debug TD" eval 'rc_is 0 && out_has "pass  debug"'
run verify "$TR/tdx/tdx_quote_4.dat" --at $JUNE --allow debug,smt
check "--allow with an unknown name is a usage error" eval 'rc_is 2 && err_has "--allow"'

cat >"$T/bad.json" <<EOT
{"version": 1, "tee": "snp", "verify": {"snp": {"vmpl": [7]}}}
EOT
run verify "$TR/snp/test-report.bin" --policy "$T/bad.json"
check "a bad verify section is an error naming the key" eval '! rc_is 0 && err_has "verify.snp.vmpl\[0\]"'

# Every CoRIM reference value is enforced or refused (Veraison's valid CoRIM, patched copies).
CORIM=$A/veraison-services-sevsnp/corim/corim-sevsnp-valid.cbor
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --expect "$CORIM"
check "CoRIM VMPL 0, FAMILY_ID, IMAGE_ID, GUEST_SVN and REPORTED_TCB are checked" \
	eval 'rc_is 1 && out_has "pass  ref-vmpl" && out_has "fail  ref-family-id" && out_has "pass  ref-guest-svn" && out_has "fail  ref-reported-tcb"'
cp "$CORIM" "$T/vmpl3.cbor"
printf '\003' | dd of="$T/vmpl3.cbor" bs=1 seek=261 conv=notrunc 2>/dev/null
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --expect "$T/vmpl3.cbor"
check "a CoRIM patched to VMPL 3 fails the VMPL 0 report" eval 'rc_is 1 && out_has "fail  ref-vmpl .*VMPL 0, expected 3"'
cp "$CORIM" "$T/mkey8.cbor"
printf '\010' | dd of="$T/mkey8.cbor" bs=1 seek=282 conv=notrunc 2>/dev/null
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --expect "$T/mkey8.cbor"
check "a CoRIM reference value cvmkit does not know is refused" \
	eval '! rc_is 0 && err_has "reference value mkey 8 is not supported"'
