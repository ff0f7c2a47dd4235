# cvmkit verify on evidence as pipelines receive it: the Azure and Trustee vectors with the
# outcomes of vectors/attest/README.md, and Trustee, Veraison and GHCB wrappers built here
# (python3) around the real reports; certificates inside evidence are used like --certs.
. tests/cli/lib.sh

A=$SHARED/vectors/attest
TR=$A/confidential-containers-trustee
JUNE=2025-06-01T00:00:00Z
if [ ! -d "$A" ]; then
	skip "wrapper vectors" "$A is missing"
	exit 0
fi

run verify "$TR/az-snp-vtpm/hcl-report.bin" --certs "$TR/az-snp-vtpm/vcek.pem" --at $JUNE
check "Azure SNP HCL report: the embedded report verifies, the runtime data is bound" \
	eval 'rc_is 0 && out_has "pass  wrapper  *azure-hcl" && out_has "pass  runtime-data  *SHA-256 of the runtime data (1110 bytes) is REPORT_DATA\[0:32\]"'
cp "$TR/az-snp-vtpm/hcl-report.bin" "$T/hcl.bin"
printf 'X' | dd of="$T/hcl.bin" bs=1 seek=$((0x4d4 + 40)) conv=notrunc 2>/dev/null
run verify "$T/hcl.bin" --certs "$TR/az-snp-vtpm/vcek.pem" --at $JUNE
check "a changed runtime-data byte fails the binding" \
	eval 'rc_is 1 && out_has "pass  signature" && out_has "fail  runtime-data"'
run verify "$TR/az-snp-vtpm/evidence-v0.json" --at $JUNE
check "Trustee's Azure SNP evidence JSON: its report verifies (Milan v3) with the VCEK inside" \
	eval 'rc_is 0 && out_has "report v3" && out_has "pass  cert-chain" && out_has "pass  runtime-data"'
run verify "$TR/az-tdx-vtpm/evidence-v1.json" --at $JUNE --allow-unevaluated tcb-status,qe-identity
check "Trustee's Azure TDX evidence JSON: the quote verifies and binds the runtime data" \
	eval 'rc_is 0 && out_has "pass  quote-signature" && out_has "pass  runtime-data.*TD report"'
run verify "$TR/az-tdx-vtpm/hcl-report.bin" --at $JUNE
check "Azure TDX HCL report alone: runtime data bound to its TD report, but nothing signed" \
	eval 'rc_is 1 && out_has "pass  runtime-data" && out_has "fail  signature  *a TD report is not signed"'
run verify "$TR/az-tdx-vtpm/td-quote.bin" --at $JUNE --allow-unevaluated tcb-status,qe-identity
check "the Azure TD quote on its own verifies" eval 'rc_is 0'

if ! command -v python3 >/dev/null 2>&1; then
	skip "wrappers built around the reports" "python3 is missing"
	exit 0
fi
# Wrappers around the real reports: Trustee SNP (sev crate layout), Trustee TDX, Veraison
# tsm-report JSON, and the report followed by its GHCB certificate table.
python3 - "$TR" "$SHARED/vectors/eventlog/confidential-containers-trustee/CCEL_data_ovmf" "$T" <<'PY'
import base64, json, struct, sys
tr, ccel, out = sys.argv[1:4]
rd = lambda p: open(p, "rb").read()
rep, vcek = rd(tr + "/snp/test-report.bin"), rd(tr + "/snp/test-vcek.der")
b = lambda o, n: list(rep[o:o + n])
u = lambda o, n: int.from_bytes(rep[o:o + n], "little")
def tcb(o):
    return {"bootloader": rep[o], "tee": rep[o + 1], "_reserved": b(o + 2, 4),
            "snp": rep[o + 6], "microcode": rep[o + 7]}
r = {"version": u(0, 4), "guest_svn": u(4, 4), "policy": u(8, 8), "family_id": b(0x10, 16),
     "image_id": b(0x20, 16), "vmpl": u(0x30, 4), "sig_algo": u(0x34, 4),
     "current_tcb": tcb(0x38), "plat_info": u(0x40, 8), "_author_key_en": u(0x48, 4),
     "_reserved_0": u(0x4c, 4), "report_data": b(0x50, 64), "measurement": b(0x90, 48),
     "host_data": b(0xc0, 32), "id_key_digest": b(0xe0, 48), "author_key_digest": b(0x110, 48),
     "report_id": b(0x140, 32), "report_id_ma": b(0x160, 32), "reported_tcb": tcb(0x180),
     "_reserved_1": b(0x188, 24), "chip_id": b(0x1a0, 64), "committed_tcb": tcb(0x1e0),
     "current_build": rep[0x1e8], "current_minor": rep[0x1e9], "current_major": rep[0x1ea],
     "_reserved_2": rep[0x1eb], "committed_build": rep[0x1ec], "committed_minor": rep[0x1ed],
     "committed_major": rep[0x1ee], "_reserved_3": rep[0x1ef], "launch_tcb": tcb(0x1f0),
     "_reserved_4": b(0x1f8, 168),
     "signature": {"r": b(0x2a0, 72), "s": b(0x2e8, 72), "_reserved": b(0x330, 368)}}
json.dump({"attestation_report": r, "cert_chain": [{"cert_type": "VCEK", "data": list(vcek)}]},
          open(out + "/trustee-snp.json", "w"))
guid = bytes.fromhex("63da758de6644564adc5f4b93be8accd")
table = guid + struct.pack("<II", 48, len(vcek)) + bytes(24) + vcek
open(out + "/report-certs.bin", "wb").write(rep + table + bytes(4096 - len(table) % 4096))
open(out + "/table.bin", "wb").write(table)
bad = bytearray(rep + table)
bad[len(rep) + 48 + 40] ^= 1
open(out + "/report-badcert.bin", "wb").write(bytes(bad))
u64 = lambda x: base64.urlsafe_b64encode(x).decode().rstrip("=")
json.dump({"outblob": u64(rep), "auxblob": u64(table), "provider": "sev_guest"},
          open(out + "/tsm.json", "w"))
quote = rd(tr + "/tdx/tdx_quote_5.dat")
json.dump({"cc_eventlog": base64.b64encode(rd(ccel)).decode(), "quote": base64.b64encode(quote).decode()},
          open(out + "/trustee-tdx.json", "w"))
PY

run verify "$T/trustee-snp.json" --at $JUNE
check "Trustee SNP evidence (the sev crate's fields, VCEK in cert_chain) verifies" \
	eval 'rc_is 0 && out_has "pass  wrapper  *trustee-snp: 1 certificate entry" && out_has "pass  cert-chain"'
run verify "$T/trustee-tdx.json" --at $JUNE --json --allow-unevaluated tcb-status,qe-identity
# The quote verifies; its cc_eventlog (CCEL_data_ovmf) is another guest's, so RTMR0..2 differ.
check "Trustee TDX evidence (quote and cc_eventlog): quote verifies, its log is replayed" \
	eval 'rc_is 1 && out_has "a CC event log of 65536 bytes" && out_has "\"quote-signature\",\"status\":\"pass\"" && out_has "\"eventlog-rtmr0\",\"status\":\"fail\""'
run verify "$T/tsm.json" --at $JUNE
check "Veraison tsm-report JSON with its auxblob certificate table verifies, no --certs" \
	eval 'rc_is 0 && out_has "tsm-json from sev_guest: 1 certificate entry"'
run verify "$T/report-certs.bin" --at $JUNE
check "an SNP report followed by its certificate table verifies, no --certs" \
	eval 'rc_is 0 && out_has "pass  wrapper  *snp-cert-table"'
run verify "$T/report-badcert.bin" --at $JUNE
check "a corrupted VCEK in the table fails" eval 'rc_is 1 && out_has "fail  "'
run verify "$TR/snp/test-report.bin" --certs "$T/table.bin" --at $JUNE
check "a bare certificate table works as --certs" eval 'rc_is 0 && out_has "pass  cert-chain"'
printf '{"attestation_report":{"version":2}}' >"$T/broken.json"
run verify "$T/broken.json" --json
check "a malformed wrapper is a failed parse check" \
	eval 'rc_is 1 && out_has "\"name\":\"parse\",\"status\":\"fail\"" && out_has "no version or no signature"'
