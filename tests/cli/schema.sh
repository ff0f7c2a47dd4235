# The JSON Schemas in docs/schema/ against real outputs: verify --json (verdicts and the error
# object) on the vectors, and measure's document.  Needs python3-jsonschema (Debian package).
. tests/cli/lib.sh

A=$SHARED/vectors/attest
TR=$A/confidential-containers-trustee
G=$A/google-go-tdx-guest
JUNE=2025-06-01T00:00:00Z
VS=docs/schema/verdict.schema.json
MS=docs/schema/measurement.schema.json

names="schemas are valid JSON Schema|SNP verdicts|VLEK verdict|TDX verdict with collateral|TDX 1.5 verdict|failed-parse verdict|wrapped evidence verdicts|error object|SNP measurement document|TDX measurement document|a wrong document is refused"
skip_all() {
	echo "$names" | tr '|' '\n' | while read -r n; do skip "schema: $n" "$1"; done
	exit 0
}
python3 -c 'import jsonschema' 2>/dev/null || skip_all "python3-jsonschema is not installed (apt-get install python3-jsonschema)"
[ -d "$A" ] || skip_all "$A is missing"

validate() { schema_valid "$@"; }

check "schema: schemas are valid JSON Schema" python3 -c "
import json, jsonschema
for f in ('$VS', '$MS'):
    jsonschema.Draft202012Validator.check_schema(json.load(open(f)))"

run verify "$TR/snp/test-report.bin" "$A/google-go-sev-guest/attestation.bin" "$A/virtee-sev/report_milan.bin" \
	--certs "$TR/snp/test-vcek.der" --certs "$A/google-go-sev-guest/vcek.testcer" --certs "$A/virtee-sev/vcek_milan.der" \
	--at $JUNE --json
check "schema: SNP verdicts" eval 'validate $VS "$T/out" && out_has "\"policy\":196639," && out_has "\"report_id_ma\":\"ffff" && out_has "\"mask_chip_key\":false"'
run verify "$TR/snp/test-vlek-report.bin" --certs "$TR/snp/test-vlek.der" --at $JUNE --vmpl 0,1 --json
check "schema: VLEK verdict" eval 'rc_is 0 && validate $VS "$T/out" && out_has "\"signing_key\":\"vlek\""'
run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$G" --allow-debug --at 2023-06-20T00:00:00Z --json
check "schema: TDX verdict with collateral" \
	eval 'rc_is 0 && validate $VS "$T/out" && out_has "\"fmspc\":\"50806f000000\"" && out_has "\"pce_id\":\"0000\"" && out_has "\"tcb_date\":\"2023-02-15T00:00:00Z\"" && out_has "\"isvprodid\":2" && out_has "\"qe_vendor_id\":\"939a7233f79c4ca9940a0db3957f0607\""'
run verify "$TR/tdx/tdx_quote_5.dat" --at $JUNE --json --allow-unevaluated tcb-status,qe-identity
check "schema: TDX 1.5 verdict" eval 'rc_is 0 && validate $VS "$T/out" && out_has "\"mr_servicetd\":" && out_has "\"unevaluated\":\[\"revocation\",\"qe-identity\",\"tcb-status\"\]"'
head -c 1000 "$TR/snp/test-report.bin" >"$T/trunc.bin"
run verify "$T/trunc.bin" "$G/report.dat" --json
check "schema: failed-parse verdict" eval 'rc_is 1 && validate $VS "$T/out"'
run verify "$TR/az-snp-vtpm/hcl-report.bin" "$TR/az-tdx-vtpm/evidence-v1.json" --at $JUNE --json
check "schema: wrapped evidence verdicts" eval 'validate $VS "$T/out"'
run verify "$TR/snp/test-report.bin" --certs /nonexistent --json
check "schema: error object" eval 'rc_is 3 && validate $VS "$T/out"'

V=$SHARED/vectors/snp
run measure --firmware "$V/ovmf_AmdSev_suffix.bin" --vcpus 2 --cpu EPYC-v4 --kernel /dev/null --initrd /dev/null \
	--append console=ttyS0
check "schema: SNP measurement document" eval 'rc_is 0 && validate $MS "$T/out"'
if [ -r /usr/share/ovmf/OVMF.fd ]; then
	run measure examples/tdx.json
	check "schema: TDX measurement document" eval 'rc_is 0 && validate $MS "$T/out"'
else
	skip "schema: TDX measurement document" "/usr/share/ovmf/OVMF.fd not installed (package ovmf)"
fi
sed 's/"algorithm": "sha384"/"algorithm": 384/' "$T/out" >"$T/bad.json"
check "schema: a wrong document is refused" eval '! validate $MS "$T/bad.json" 2>/dev/null'
