# cvmkit verify: collateral loading fails closed (issue 13), on temporary copies of the vectors.
. tests/cli/lib.sh

A=$SHARED/vectors/attest
TR=$A/confidential-containers-trustee
G=$A/google-go-tdx-guest
JUNE23=2023-06-20T00:00:00Z

if [ ! -d "$A" ]; then
	skip "verify collateral vectors" "$A is missing"
	exit 0
fi

pem() { # DER-FILE LABEL
	printf -- '-----BEGIN %s-----\n' "$2"
	base64 -w 64 "$1"
	printf -- '-----END %s-----\n' "$2"
}

# The Google collateral, with the two CRLs as one PEM bundle (root CA CRL first, then PCK CRL).
mkdir "$T/g"
cp "$G/sample_tcbInfo_response" "$G/sample_qeIdentity_response" "$G/tcbInfoIssuerChain.pem" \
	"$G/pckCrlIssuerChain.pem" "$T/g/"
{ pem "$G/rootcrl.der" "X509 CRL"; pem "$G/pckcrl" "X509 CRL"; } >"$T/g/crls.pem"
run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$T/g" --allow-debug --at $JUNE23
check "every CRL of a PEM bundle is read: root CA CRL and PCK CRL" \
	eval 'rc_is 0 && out_has "pass  revocation  *root CA CRL and PCK CRL checked"'
pem "$G/rootcrl.der" "X509 CRL" >"$T/g/crls.pem"
run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$T/g" --allow-debug --at $JUNE23 --require-revocation
check "only the root CA CRL: revocation is not evaluated and --require-revocation fails" \
	eval 'rc_is 1 && out_has "fail  revocation  *not evaluated: the root CA CRL checked, but no PCK CRL"'
{ pem "$G/rootcrl.der" "X509 CRL"; printf -- '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'; } >"$T/g/crls.pem"
run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$T/g" --allow-debug --at $JUNE23
check "an unreadable second CRL of a bundle is an error naming the file" \
	eval '[ $RC -ne 0 ] && err_has "crls.pem" && err_has "CRL 2 of 2 is unreadable"'
rm "$T/g/crls.pem"

# A truncated TCB info or QE identity in a folder is an error naming it, not skipped.
for f in sample_tcbInfo_response sample_qeIdentity_response; do
	rm -rf "$T/t"
	mkdir "$T/t"
	cp "$T/g/"* "$T/t/"
	head -c $(($(wc -c <"$G/$f") / 2)) "$G/$f" >"$T/t/$f"
	run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$T/t" --allow-debug --at $JUNE23
	check "a truncated $f in a --collateral folder is an error naming the file" \
		eval '[ $RC -ne 0 ] && [ $RC -ne 2 ] && err_has "$T/t: $f: " && ! out_has PASS'
done
head -c 200 "$G/rootcrl.der" >"$T/t/rootcrl.der"
cp "$G/sample_tcbInfo_response" "$T/t/"
run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$T/t" --allow-debug --at $JUNE23
check "a truncated DER CRL in a --collateral folder is an error naming the file" \
	eval '[ $RC -ne 0 ] && err_has "rootcrl.der: DER, but neither a readable CRL nor a certificate"'
printf 'notes\n' >"$T/g/README"
run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$T/g" --allow-debug --at $JUNE23
check "a file that is not collateral at all is skipped" eval 'rc_is 0'

# Two platforms in one folder: each quote is judged by the TCB info of its own FMSPC.
mkdir "$T/two"
cp "$T/g/"* "$T/two/"
cp "$TR/tdx/tcbInfo.json" "$TR/tdx/enclaveIdentity.json" "$T/two/"
run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$T/two" --allow-debug --at $JUNE23
check "two platforms: quote 4 uses the TCB info of FMSPC 50806f000000" \
	eval 'rc_is 0 && out_has "pass  tcb-info  *TCB info for FMSPC 50806f000000 PCE ID 0000 is current (sample_tcbInfo_response)" && out_has "tcb status: UpToDate"'
run verify "$TR/tdx/tdx_quote_6.dat" --collateral "$T/two" --at 2025-11-01T00:00:00Z
check "two platforms: quote 6 uses the TCB info of FMSPC 00a06d080000" \
	eval 'out_has "pass  tcb-info  *TCB info for FMSPC 00a06d080000 PCE ID 0000 is current (tcbInfo.json)" && out_has "pass  qe-identity-signature" && out_has "tcb status: OutOfDate"'
run verify "$TR/tdx/tdx_quote_6.dat" --collateral "$T/g" --at 2025-11-01T00:00:00Z
check "another platform's TCB info only: the TCB status is not evaluated" \
	eval 'rc_is 1 && out_has "fail  tcb-status  *not evaluated: no TCB info for FMSPC 00a06d080000 PCE ID 0000 (the TCB infos given are for other platforms)"'

# The QE's TCB status is folded into the reported status (Intel QVL): an OutOfDate QE makes an
# UpToDate platform OutOfDate.  (The edit breaks the document's signature, checked separately.)
sed 's/"tcbStatus":"UpToDate"/"tcbStatus":"OutOfDate"/' "$G/sample_qeIdentity_response" >"$T/g/sample_qeIdentity_response"
run verify "$TR/tdx/tdx_quote_4.dat" --collateral "$T/g" --allow-debug --at $JUNE23
check "an OutOfDate QE folds into the TCB status" \
	eval 'rc_is 1 && out_has "fail  qe-identity-signature" && out_has "tcb status: OutOfDate" && out_has "platform level UpToDate.*QE OutOfDate"'

# Issue 17: in a batch the collateral is loaded once and the other threads' verifiers share it
# (clones): every thread evaluates the same TCB info, QE identity and CRLs.
cp "$G/sample_qeIdentity_response" "$G/rootcrl.der" "$G/pckcrl" "$T/g/"
set -- "$TR/tdx/tdx_quote_4.dat" "$TR/tdx/tdx_quote_6.dat"
set -- "$@" "$@" "$@" "$@" "$@" "$@" # 12 files
for n in 1 2 3; do
	run verify "$@" --collateral "$T/g" --allow-debug --at $JUNE23 --json --threads $n
	cp "$T/out" "$T/coll.$n"
done
check "collateral shared by 2 and 3 threads: the verdicts of 1 thread, each quote 4 revocation-checked" \
	eval 'cmp -s "$T/coll.1" "$T/coll.2" && cmp -s "$T/coll.1" "$T/coll.3" && [ $(grep -c "root CA CRL and PCK CRL checked" "$T/coll.3") -eq 6 ]'
