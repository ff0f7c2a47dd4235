# cvmkit verify --fetch against the local KDS/PCS stand-in (tests/net/kds_pcs_server.py on
# 127.0.0.1): what each evidence file needs is fetched (cache first), verified like supplied
# material, and listed with where it came from.
. tests/cli/lib.sh
. tests/net/server.sh

A=$SHARED/vectors/attest
TR=$A/confidential-containers-trustee
G=$A/google-go-tdx-guest
MILAN=$A/virtee-sev/report_milan.bin
QUOTE=$TR/tdx/tdx_quote_6.dat
JUNE=2025-06-01T00:00:00Z
CHIP=d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6

run verify "$MILAN" --cache "$T/cache"
check "fetch options without --fetch are a usage error" eval 'rc_is 2 && err_has "apply with --fetch"'

if [ ! -d "$A" ]; then
	skip "verify --fetch vectors" "$A is missing"
	exit 0
fi
if ! server_start; then
	skip "verify --fetch against the local server" "python3 could not start tests/net/kds_pcs_server.py"
	exit 0
fi

run verify "$MILAN" --fetch --kds-url "$BASE" --cache "$T/cache" --at $JUNE
requests
printf 'GET /vcek/v1/Milan/%s?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115\nGET /vcek/v1/Milan/cert_chain\n' "$CHIP" >"$T/want"
check "SNP: passes with no --certs, requesting exactly the VCEK and the chain" \
	eval 'rc_is 0 && cmp -s "$T/want" "$T/requests" && out_has "pass  cert-chain" && out_has "pass  signature"'
check "the sources say where each item came from" \
	eval 'out_has "^  sources:" && out_has "vcek  *network  *$BASE/vcek/v1/Milan/$CHIP" && out_has "amd-chain  *network  *$BASE/vcek/v1/Milan/cert_chain"'

run verify "$MILAN" --fetch --kds-url "$BASE" --cache "$T/cache" --at $JUNE --json
requests
check "a second run makes no request: the cache serves it" \
	eval 'rc_is 0 && ! test -s "$T/requests" && out_has "\"origin\":\"cache\",\"source\":\"$T/cache/vcek/$CHIP/bl03_tee00_snp08_ucode115_vcek.der\""'
run verify "$MILAN" --fetch --offline --cache "$T/cache" --at $JUNE
check "--offline verifies from the cache" eval 'rc_is 0 && out_has "pass  cert-chain"'
run verify "$MILAN" --fetch --offline --cache "$T/none" --at $JUNE
check "--offline with an empty cache says what is missing; the verdict fails" \
	eval 'rc_is 1 && err_has "vcek: VCEK for Milan chip" && err_has "not in the cache" && out_has "fail  cert-chain"'

run verify "$MILAN" --fetch --check-revocation --kds-url "$BASE" --cache "$T/cache" --at $JUNE
requests
check "--check-revocation fetches the ARK's CRL; none to be had fails the verdict" \
	eval 'rc_is 1 && grep -q "GET /vcek/v1/Milan/crl" "$T/requests" && err_has "amd-crl: AMD Milan VCEK CRL: GET $BASE/vcek/v1/Milan/crl: HTTP 404" && out_has "fail  revocation"'

run verify "$MILAN" --fetch --require-revocation --kds-url "$BASE" --cache "$T/cache" --at $JUNE
requests
check "--require-revocation (the new name) does the same" \
	eval 'rc_is 1 && out_has "fail  revocation  *not evaluated: no CRL of ARK-Milan"'

# TDX: collateral fetched from the local PCS gives the checks of the same files given by hand.
checks_of() { sed 's/"reason":"[^"]*"//g; s/.*"checks":\[\(.*\)\],"fields".*/\1/' "$T/out"; }
run verify "$QUOTE" --fetch --pcs-url "$BASE" --cache "$T/cache" --at 2025-11-01T00:00:00Z --json
requests
checks_of >"$T/fetched"
check "TDX: TCB info, QE identity, PCK CRL and root CRL fetched" \
	eval '[ $(wc -l <"$T/requests") -eq 4 ] && out_has "\"kind\":\"tcb-info\"" && out_has "\"kind\":\"root-crl\""'
if has_jsonschema; then
	check "TDX --fetch --json: the verdict and its sources match docs/schema/verdict.schema.json" \
		schema_valid docs/schema/verdict.schema.json "$T/out"
else
	skip "TDX --fetch --json matches the verdict schema" "python3-jsonschema is not installed"
fi
run verify "$QUOTE" --collateral "$TR/tdx/tcbInfo.json" --collateral "$TR/tdx/enclaveIdentity.json" \
	--collateral "$G/tcbInfoIssuerChain.pem" --collateral "$G/qeIdentityIssuerChain.pem" \
	--collateral "$G/pckcrl" --collateral "$G/pckCrlIssuerChain.pem" --collateral "$G/rootcrl.der" \
	--at 2025-11-01T00:00:00Z --json
checks_of >"$T/by-hand"
check "TDX: fetched collateral gives the same checks and verdict as the files by hand" \
	eval 'cmp -s "$T/fetched" "$T/by-hand" && grep -q "\"name\":\"tcb-info-signature\",\"status\":\"pass\"" "$T/fetched" && grep -q "\"name\":\"collateral-signer\",\"status\":\"fail\"" "$T/fetched"'

run verify "$A/google-go-sev-guest/attestation.bin" --fetch --kds-url "$BASE" --cache "$T/cache" --at $JUNE --allow-debug
check "a VCEK the server does not have: the request is named, the chain fails" \
	eval 'rc_is 1 && err_has "vcek: " && err_has "HTTP 404" && out_has "fail  cert-chain"'

# Issue 17: a --fetch batch runs on the pool.  The threads share one fetcher, which asks for
# each URL once (the 404 too), and every file gets the same answer whichever thread asks first:
# verdicts, sources and messages are byte for byte those of one thread.
GOSEV=$A/google-go-sev-guest/attestation.bin
requests
for n in 1 2 3; do
	rm -rf "$T/pool-cache"
	run verify "$MILAN" "$QUOTE" "$GOSEV" "$MILAN" "$QUOTE" "$GOSEV" "$MILAN" --fetch --kds-url "$BASE" \
		--pcs-url "$BASE" --cache "$T/pool-cache" --at 2025-11-01T00:00:00Z --threads $n
	requests
	sort "$T/requests" >"$T/requests.$n"
	cp "$T/out" "$T/out.$n"
	cp "$T/err" "$T/err.$n"
	echo "$RC" >"$T/rc.$n"
done
check "--fetch on 1 thread: each of the 8 URLs requested once, the 404 named for each file needing it" \
	eval '[ $(wc -l <"$T/requests.1") -eq 8 ] && [ -z "$(uniq -d "$T/requests.1")" ] && [ $(grep -c "HTTP 404" "$T/err.1") -eq 2 ] && [ $(cat "$T/rc.1") -eq 1 ]'
check "--fetch on 2 and 3 threads: the same requests, once each" \
	eval 'cmp -s "$T/requests.1" "$T/requests.2" && cmp -s "$T/requests.1" "$T/requests.3"'
check "--fetch on 2 and 3 threads: verdicts, sources and messages identical to 1 thread" \
	eval 'cmp -s "$T/out.1" "$T/out.2" && cmp -s "$T/out.1" "$T/out.3" && cmp -s "$T/err.1" "$T/err.2" && cmp -s "$T/err.1" "$T/err.3" && cmp -s "$T/rc.1" "$T/rc.3"'
check "--fetch batch: a later file with the same chip is served what the first one got" \
	eval '[ $(grep -c "vcek  *network  *$BASE/vcek/v1/Milan/$CHIP" "$T/out.1") -eq 3 ] && out_has "pass  cert-chain"'
