# cvmkit fetch against the local KDS/PCS stand-in (tests/net/kds_pcs_server.py on 127.0.0.1):
# the exact requests, the cache on a second run, --offline, a clear error per failed request,
# the air-gap bundle that verify reads.
. tests/cli/lib.sh
. tests/net/server.sh

A=$SHARED/vectors/attest
TR=$A/confidential-containers-trustee
MILAN=$A/virtee-sev/report_milan.bin
QUOTE=$TR/tdx/tdx_quote_6.dat
CHIP=d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6
VCEK_PATH="/vcek/v1/Milan/$CHIP?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115"

run fetch
check "no evidence is a usage error" eval 'rc_is 2 && err_has "no evidence file given"'
run fetch "$MILAN" --timeout soon
check "a bad --timeout is a usage error" eval 'rc_is 2 && err_has "timeout"'
run fetch --help
check "--help names the options and the bundle" eval 'rc_is 0 && out_has "--export DIR" && out_has "--offline" && out_has "--kds-url"'

if [ ! -d "$A" ]; then
	skip "fetch vectors" "$A is missing"
	exit 0
fi
if ! server_start; then
	skip "fetch against the local server" "python3 could not start tests/net/kds_pcs_server.py"
	exit 0
fi
NET="--kds-url $BASE --pcs-url $BASE --cache $T/cache"

run fetch "$MILAN" $NET --no-amd-crl
requests
printf 'GET %s\nGET /vcek/v1/Milan/cert_chain\n' "$VCEK_PATH" >"$T/want"
check "SNP: the VCEK of the chip and TCB, then the chain, nothing else" \
	eval 'rc_is 0 && cmp -s "$T/want" "$T/requests" && out_has "vcek  *network  *$BASE/vcek/v1/Milan/$CHIP"'
check "the VCEK lands in the Trustee store layout" \
	test -f "$T/cache/vcek/$CHIP/bl03_tee00_snp08_ucode115_vcek.der"

run fetch "$MILAN" $NET --no-amd-crl
requests
check "a second run is served by the cache: no request" \
	eval 'rc_is 0 && ! test -s "$T/requests" && out_has "vcek  *cache  *$T/cache/vcek/$CHIP/bl03_tee00_snp08_ucode115_vcek.der"'

run fetch "$MILAN" $NET
requests
check "a failed request is a clear error naming the item, the URL and the status" \
	eval 'rc_is 1 && out_has "amd-crl  *missing" && err_has "report_milan.bin: amd-crl: AMD Milan VCEK CRL: GET $BASE/vcek/v1/Milan/crl: HTTP 404"'

run fetch "$QUOTE" $NET --at 2025-11-01T00:00:00Z --json
requests
check "TDX: TCB info for the FMSPC, QE identity, the platform CA's CRL, the root CRL" \
	eval 'rc_is 0 && grep -q "fmspc=00a06d080000" "$T/requests" && grep -q "qe/identity" "$T/requests" && grep -q "ca=platform" "$T/requests" && grep -q rootcacrl "$T/requests" && [ $(wc -l <"$T/requests") -eq 4 ]'
check "--json: one object per evidence, each item with its origin and source" \
	eval 'out_has "\"type\":\"tdx\"" && out_has "\"kind\":\"tcb-info\",\"what\"" && out_has "\"origin\":\"network\""'

# Every cached TDX item is before its nextUpdate only that early (the CRL vectors are from 2023).
OLD=2023-06-10T00:00:00Z
run fetch "$MILAN" "$QUOTE" --cache "$T/cache" --offline --no-amd-crl --at $OLD
check "--offline works from the cache" eval 'rc_is 0 && ! out_has network'
run fetch "$MILAN" --cache "$T/empty" --offline --no-amd-crl
check "--offline says what is missing and where it would come from" \
	eval 'rc_is 1 && err_has "vcek: VCEK for Milan chip d49554ec717f4e5b.. at TCB bl 3 tee 0 snp 8 ucode 115: offline" && err_has "kdsintf.amd.com/vcek/v1/Milan/$CHIP"'

run fetch "$MILAN" "$QUOTE" --cache "$T/cache" --offline --no-amd-crl --at $OLD --export "$T/bundle"
check "--export writes the air-gap bundle" \
	eval 'rc_is 0 && test -f "$T/bundle/certs/milan_vcek_cert_chain.pem" && test -f "$T/bundle/collateral/tdx_tcb_info_00a06d080000.json" && grep -q "cache$" "$T/bundle/sources.txt"'
run verify "$MILAN" --certs "$T/bundle/certs" --at 2025-06-01T00:00:00Z
check "verify reads the bundle's certs/" eval 'rc_is 0 && out_has "pass  cert-chain"'
run verify "$QUOTE" --collateral "$T/bundle/collateral" --at 2025-11-01T00:00:00Z
check "verify reads the bundle's collateral/" eval 'out_has "pass  tcb-info-signature" && out_has "pass  qe-identity-signature"'

printf 'not evidence' >"$T/junk"
run fetch "$T/junk" --cache "$T/cache" --offline
check "evidence that is no report or quote fails clearly" eval 'rc_is 1 && err_has "junk:"'

server_start --status "/vcek/v1/Milan/cert_chain=429:1*1"
run fetch "$MILAN" --kds-url "$BASE" --cache "$T/fresh" --no-amd-crl
requests
check "a 429 with Retry-After is waited for and retried" \
	eval 'rc_is 0 && [ $(grep -c "GET /vcek/v1/Milan/cert_chain" "$T/requests") -eq 2 ]'
