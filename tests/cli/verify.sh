# cvmkit verify: the public evidence with the outcomes of vectors/attest/README.md.
. tests/cli/lib.sh

A=$SHARED/vectors/attest
TR=$A/confidential-containers-trustee
JUNE=2025-06-01T00:00:00Z

if [ ! -d "$A" ]; then
	skip "verify vectors" "$A is missing"
	exit 0
fi

run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE
check "trustee SNP report verifies at a pinned time; revocation named unevaluated" \
	eval 'rc_is 0 && out_has "pass  cert-chain" && out_has "measurement " && out_has "snp evidence: PASS (unevaluated: revocation)$" && out_has "skip  revocation  *not evaluated: no CRL of ARK-Milan: supply AMD KDS.s CRL with --certs FILE or --fetch --require-revocation"'
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --require-revocation
check "--require-revocation: an SNP report without the ARK's CRL fails" \
	eval 'rc_is 1 && out_has "fail  revocation  *not evaluated: no CRL of ARK-Milan.*required (by --require-revocation)"'
run verify "$TR/snp/test-report.bin" --at $JUNE
check "SNP report without a VCEK fails closed: chain, TCB and chip ID unevaluated" \
	eval 'rc_is 1 && out_has "fail  cert-chain  *not evaluated: the report is signed by a VCEK and no VCEK certificate was given: supply it with --certs FILE or --fetch; required (accept with --allow-unevaluated cert-chain)" && out_has "fail  reported-tcb  *not evaluated" && out_has "fail  chip-id  *not evaluated" && out_has "fail  signature"'
run verify "$TR/snp/test-report.bin" --at $JUNE --allow-unevaluated cert-chain,reported-tcb,chip-id
check "no VCEK: accepting the chain unevaluated never accepts an unverified signature" \
	eval 'rc_is 1 && out_has "skip  cert-chain" && out_has "fail  signature  *no certificate to verify it with"'
# Every candidate VCEK is tried: a decoy given first does not shadow the right one.
run verify "$TR/snp/test-report.bin" --certs "$A/virtee-sev/vcek_milan.der" --certs "$TR/snp/test-vcek.der" --at $JUNE
check "a decoy VCEK given first: the VCEK whose key verifies is used and reported" \
	eval 'rc_is 0 && out_has "pass  signature .*VCEK key (test-vcek.der)"'
run verify "$TR/snp/test-report.bin" --certs "$A/virtee-sev/vcek_milan.der" --at $JUNE
check "only a wrong VCEK: the signature fails" \
	eval 'rc_is 1 && out_has "fail  signature .*any of the 1 VCEK certificate given"'

run verify "$A/google-go-sev-guest/attestation.bin" --certs "$A/google-go-sev-guest/vcek.testcer" --at $JUNE
check "debug SNP guest refused by default" eval 'rc_is 1 && out_has "fail  debug" && out_has "pass  signature"'
run verify "$A/google-go-sev-guest/attestation.bin" --certs "$A/google-go-sev-guest/vcek.testcer" --at $JUNE --allow-debug \
	--report-data 0102030405
check "debug SNP guest accepted with --allow-debug and its REPORT_DATA" eval 'rc_is 0 && out_has "pass  report-data"'

printf '\001\002\003\004\006' >"$T/nonce"
run verify "$A/google-go-sev-guest/attestation.bin" --certs "$A/google-go-sev-guest/vcek.testcer" --at $JUNE --allow-debug \
	--report-data-file "$T/nonce"
check "a wrong --report-data-file fails the report-data check" eval 'rc_is 1 && out_has "fail  report-data"'

run verify "$A/virtee-sev/report_milan.hex" --certs "$A/virtee-sev" --at $JUNE
check "hex-text report with a certificate folder verifies" eval 'rc_is 0'

run verify "$TR/snp/test-vlek-report.bin" --certs "$TR/snp/test-vlek.der" --at $JUNE
check "VLEK report at VMPL 1 refused by default (VMPL 0 only)" eval 'rc_is 1 && out_has "fail  vmpl .*VMPL 1"'
run verify "$TR/snp/test-vlek-report.bin" --certs "$TR/snp/test-vlek.der" --at $JUNE --vmpl 0,1
check "VLEK report valid at 2025-06-01 with VMPL 1 allowed" eval 'rc_is 0 && out_has "VLEK -> ASVK"'
run verify "$TR/snp/test-vlek-report.bin" --certs "$TR/snp/test-vlek.der" --vmpl 1
check "VLEK report fails now: the VLEK expired" eval 'rc_is 1 && out_has "VLEK expired at 2025-12-10"'

for f in legacy new; do
	run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek-invalid-$f.der" --at $JUNE
	check "edited VCEK ($f) fails the chain" eval 'rc_is 1 && out_has "fail  cert-chain"'
done

run verify "$A/virtee-sev/report_milan.bin" --certs "$A/virtee-sev/vcek_milan.der" --product genoa --at $JUNE
check "a Milan VCEK does not chain to the Genoa ARK" eval 'rc_is 1 && out_has "fail  cert-chain.*SEV-Genoa"'

run verify "$TR/tdx/tdx_quote_4.dat" --at $JUNE
check "debug TD quote refused by default" eval 'rc_is 1 && out_has "fail  debug" && out_has "pass  quote-signature"'
run verify "$TR/tdx/tdx_quote_4.dat" --at $JUNE --allow-debug --allow-unevaluated tcb-status,qe-identity
check "debug TD quote accepted with --allow-debug, the unevaluated checks named" \
	eval 'rc_is 0 && out_has "tdx evidence: PASS (unevaluated: revocation, qe-identity, tcb-status)$"'

# Fail closed: without collateral a quote's TCB status and QE identity are not evaluated.
run verify "$TR/tdx/tdx_quote_5.dat" --at $JUNE
check "TDX quote without collateral fails closed, saying what is missing and how to supply it" \
	eval 'rc_is 1 && out_has "FAIL" && out_has "fail  tcb-status  *not evaluated: no TCB info for FMSPC [0-9a-f]* PCE ID 0000 to judge the TCB level and the TDX module by: supply it with --collateral DIR or --fetch; required (accept with --allow-unevaluated tcb-status)" && out_has "fail  qe-identity  *not evaluated: no TD_QE identity" && out_has "skip  revocation  *not evaluated: no CRL" && out_has "pass  qe-vendor-id"'
run verify "$TR/tdx/tdx_quote_5.dat" --at $JUNE --allow-unevaluated tcb-status
check "accepting only tcb-status unevaluated still fails on the QE identity" \
	eval 'rc_is 1 && out_has "skip  tcb-status" && out_has "fail  qe-identity"'
run verify "$TR/tdx/tdx_quote_5.dat" --at $JUNE --allow-unevaluated tcb-status,qe-identity --require-revocation
check "--require-revocation: a TDX quote without CRLs fails" \
	eval 'rc_is 1 && out_has "fail  revocation  *not evaluated: no CRL.*required (by --require-revocation)"'
run verify "$TR/tdx/tdx_quote_5.dat" --allow-unevaluated tcb-status,signature
check "--allow-unevaluated with a check that cannot be accepted is a usage error" \
	eval 'rc_is 2 && err_has "signature. is not a check that may be accepted unevaluated"'
cp "$TR/tdx/tdx_quote_5.dat" "$T/foreign-qe.dat"
printf '\001' | dd of="$T/foreign-qe.dat" bs=1 seek=12 conv=notrunc 2>/dev/null
run verify "$T/foreign-qe.dat" --at $JUNE --allow-unevaluated tcb-status,qe-identity
check "a quote from a foreign QE vendor fails the qe-vendor-id check" \
	eval 'rc_is 1 && out_has "fail  qe-vendor-id  *QE_VENDOR_ID 019a7233"'

run verify "$TR/tdx/tdx_quote_5.dat" "$TR/tdx/tdx_quote_6.dat" --at $JUNE --json --allow-unevaluated tcb-status,qe-identity
check "batch of TDX quotes: one JSON verdict per line" eval 'rc_is 0 && [ $(grep -c "\"verdict\":\"pass\"" "$T/out") -eq 2 ]'

run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$A/google-go-tdx-guest" --allow-debug --at 2023-06-20T00:00:00Z
check "TDX collateral: signatures, CRLs and TCB status" eval 'rc_is 0 && out_has "tcb status: UpToDate" && out_has "pass  revocation  *root CA CRL and PCK CRL checked" && out_has "PASS$"'

run verify "$TR/tdx/tdx_quote_6.dat" --collateral "$TR/tdx" --certs "$A/google-go-tdx-guest/tcbInfoIssuerChain.pem" \
	--at 2025-11-01T00:00:00Z
check "trustee collateral signatures verify (signer certificate expired)" \
	eval 'out_has "pass  tcb-info-signature" && out_has "pass  qe-identity-signature" && out_has "fail  collateral-signer.*expired"'

run verify "$A/google-go-tdx-guest/report.dat"
check "random report.dat rejected without a crash" eval 'rc_is 1 && out_has "fail  parse"'

head -c 1000 "$TR/snp/test-report.bin" >"$T/trunc.bin"
run verify "$T/trunc.bin" --json
check "truncated report: a failed parse check in JSON" eval 'rc_is 1 && out_has "\"name\":\"parse\",\"status\":\"fail\"" && out_has truncated'

run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at yesterday
check "--at with a bad time is a usage error" eval 'rc_is 2'
run verify
check "no evidence is a usage error" eval 'rc_is 2'
run verify "$TR/snp/test-report.bin" --certs /nonexistent
check "unreadable --certs: the verifier could not run (3)" eval 'rc_is 3 && err_has "nonexistent"'
run verify "$TR/snp/test-report.bin" --certs /nonexistent --json
check "unreadable --certs under --json: a JSON error object on stdout, exit 3" \
	eval 'rc_is 3 && out_has "^{\"schema\":\"cvmkit-verdict/1\",\"error\":{\"message\":\"--certs /nonexistent: No such file or directory\",\"errno\":2}}$" && [ $(wc -l <"$T/out") -eq 1 ]'
printf 'not a certificate\n' >"$T/bad.pem"
printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' >"$T/bad.pem"
run verify "$TR/snp/test-report.bin" --certs "$T/bad.pem" --json
check "bad trust material: exit 3 with a JSON error, unlike a rejected report (1)" \
	eval 'rc_is 3 && out_has "\"error\":{\"message\":\"--certs: bad.pem: "'
run verify "$TR/snp/test-report.bin" --json
check "a rejected report: exit 1 with its verdict, not an error object" \
	eval 'rc_is 1 && out_has "\"verdict\":\"fail\"" && ! out_has "\"error\""'
run verify --help
check "verify --help documents the exit status" \
	eval 'rc_is 0 && out_has "^  0  every evidence file accepted" && out_has "^  1  some evidence rejected" && out_has "^  2  usage error" && out_has "^  3  the verifier could not run"'

# --expect: a measurement document (docs/measurement.md) made from the report's own MEASUREMENT.
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE
meas=$(sed -n 's/^    measurement  *\([0-9a-f]*\)$/\1/p' "$T/out")
doc() { # digest policy
	printf '{"schema":"cvmkit-measurement/1","tee":"snp","mode":"snp","algorithm":"sha384","digest":"%s","report":{"policy":"%s"},"inputs":{},"launch":{}}\n' "$1" "$2" >"$T/expect.json"
}
doc "$meas" 0x3001f
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --expect "$T/expect.json"
check "--expect: MEASUREMENT and POLICY match the document" eval 'rc_is 0 && out_has "pass  measurement" && out_has "pass  guest-policy"'
doc "$(printf '%s' "$meas" | sed 's/^./0/;s/^00/11/')" 0x30000
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --expect "$T/expect.json" --json
check "--expect: a different digest and policy fail by name" eval 'rc_is 1 && out_has "\"name\":\"measurement\",\"status\":\"fail\"" && out_has "\"name\":\"guest-policy\",\"status\":\"fail\""'
run verify "$TR/tdx/tdx_quote_5.dat" --at $JUNE --expect "$T/expect.json"
check "--expect: an SNP document does not match a TDX quote" eval 'rc_is 1 && out_has "fail  mrtd"'
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --expect "$T/expect.json"
check "--expect: a mismatch shows the evidence and the expected value" \
	eval 'rc_is 1 && out_has "MEASUREMENT [0-9a-f]*\.\.\.[0-9a-f]*, expected [0-9a-f]*\.\.\.[0-9a-f]* (first difference at byte 0)" && out_has "POLICY 0x3001f, expected 0x30000"'

run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --report-data 00112233
check "a wrong --report-data shows both values" \
	eval 'rc_is 1 && out_has "fail  report-data .*REPORT_DATA [0-9a-f.]*, expected 0011223300000000\.\.\.00000000"'

# A VM policy given to --expect: say what to do instead of a schema error.
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at $JUNE --expect examples/snp-qemu.json
check "--expect with a VM policy names the mix-up and the fix" \
	eval 'rc_is 3 && err_has "examples/snp-qemu.json is a VM policy, not a measurement document: run .cvmkit measure examples/snp-qemu.json --out expected.json. and pass that to --expect"'

# Unreadable files named by options: the verifier could not run (3); malformed option values are
# usage errors (2).
for o in --certs --collateral --expect --report-data-file; do
	run verify "$TR/snp/test-report.bin" $o /nonexistent
	check "unreadable $o: exit 3" eval 'rc_is 3 && err_has "nonexistent"'
	run verify "$TR/snp/test-report.bin" $o /nonexistent --json
	check "unreadable $o --json: a JSON error object" eval 'rc_is 3 && out_has "\"error\":{\"message\":.*nonexistent"'
done
head -c 65 /dev/zero >"$T/nonce65"
run verify "$TR/snp/test-report.bin" --report-data-file "$T/nonce65"
check "a --report-data-file over 64 bytes: exit 3" eval 'rc_is 3 && err_has "64 bytes"'
printf '{"schema":"cvmkit-measurement/1"}' >"$T/bad-expect.json"
run verify "$TR/snp/test-report.bin" --expect "$T/bad-expect.json" --json
check "a bad expectation: exit 3 with a JSON error" eval 'rc_is 3 && out_has "\"error\":{\"message\":\"--expect "'
run verify "$TR/snp/test-report.bin" --report-data 0xzz
check "bad --report-data hex is a usage error" eval 'rc_is 2'
run verify "$TR/snp/test-report.bin" --min-tcb nothex
check "bad --min-tcb is a usage error" eval 'rc_is 2'

# --report-data and --report-data-file name the same expectation: one of them
printf 'abc' >"$T/rd.bin"
run verify "$T/rd.bin" --report-data 01 --report-data-file "$T/rd.bin"
check "--report-data with --report-data-file is a usage error" eval 'rc_is 2 && err_has "not both"'

# An impossible --at date is refused, not rolled over into the next month (issue 12).
run verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" --at 2025-02-31T00:00:00Z
check "verify --at 2025-02-31 is a usage error" eval 'rc_is 2 && err_has "2025-02-31"'

# ---- a batch over --threads: the same verdicts, in the order of the files ------------------
set -- "$TR/snp/test-report.bin" "$A/virtee-sev/report_milan.bin" "$T/no-such-file" \
	"$TR/tdx/tdx_quote_5.dat"
set -- "$@" "$@" "$@" "$@" "$@" "$@" "$@" "$@" "$@" "$@" # 40 files
for n in 1 2 3; do
	run verify "$@" --certs "$TR/snp/test-vcek.der" --at $JUNE --json --threads $n
	cp "$T/out" "$T/batch.$n"
	check "a batch of 40 on --threads $n: every verdict, exit 1 (some are rejected)" \
		eval 'rc_is 1 && [ $(wc -l <"$T/out") -eq 40 ]'
done
check "--threads 2 and 3 print what --threads 1 prints, byte for byte" \
	eval 'cmp -s "$T/batch.1" "$T/batch.2" && cmp -s "$T/batch.1" "$T/batch.3"'
sed -n 's/.*"evidence":"\([^"]*\)".*/\1/p' "$T/batch.2" >"$T/order"
printf '%s\n' "$@" >"$T/given"
check "the verdicts come in the order of the files" cmp -s "$T/order" "$T/given"
run verify "$@" --certs "$TR/snp/test-vcek.der" --at $JUNE --threads 2
check "text output of a batch on two threads: one verdict line per file" \
	eval 'rc_is 1 && [ $(grep -c " evidence: \(PASS\|FAIL\)" "$T/out") -eq 40 ]'
run verify "$TR/snp/test-report.bin" --threads 0
check "--threads 0 is a usage error" eval 'rc_is 2 && err_has "--threads: expected a count 1..256"'
