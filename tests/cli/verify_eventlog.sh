# cvmkit verify --eventlog: every quote of the vectors against every event log of the vectors
# (none belong together) reports RTMR-by-RTMR mismatch; Trustee's evidence carries its log; the
# expected events of --expect are matched against the log.
. tests/cli/lib.sh

A=$SHARED/vectors/attest/confidential-containers-trustee
E=$SHARED/vectors/eventlog/confidential-containers-trustee
if [ ! -d "$E" ] || [ ! -d "$A" ]; then
	skip "verify --eventlog vectors" "$A or $E is missing"
	exit 0
fi
AT=--at=2025-06-01T00:00:00Z

for q in "$A/tdx/tdx_quote_4.dat" "$A/tdx/tdx_quote_5.dat" "$A/tdx/tdx_quote_6.dat" \
	"$A/az-tdx-vtpm/td-quote.bin"; do
	for lg in CCEL_data CCEL_data_ovmf CCEL_data_grub; do
		run verify "$q" --eventlog "$E/$lg" --allow-debug $AT
		check "verify $(basename "$q") --eventlog $lg: one line per RTMR, a mismatch, exit 1" eval \
			'rc_is 1 && out_has "^  pass  eventlog  .*$lg: [0-9]* events replayed (SHA-384)" &&
			 out_has "^  fail  eventlog-rtmr[01]  *the log.s [0-9]* events\{0,1\} replay to [0-9a-f]\{8\}\.\.\.[0-9a-f]\{8\}, the quote.s RTMR[01] is " &&
			 [ "$(grep -c "^  \(pass\|fail\)  eventlog-rtmr[0-3] " "$T/out")" -eq 4 ] &&
			 out_has "^  ....  eventlog-rtmr3  *runtime-extended (by the OS, not the firmware): "'
	done
done

run verify "$A/tdx/tdx_quote_5.dat" --eventlog "$E/CCEL_data_ovmf" $AT --json
check "verify --eventlog --json: the RTMR checks are in the check list" eval \
	'rc_is 1 && python3 -c "
import json, sys
c = {x[\"name\"]: x[\"status\"] for x in json.loads(open(sys.argv[1]).readline())[\"checks\"]}
assert c[\"eventlog\"] == \"pass\", c
assert [c[\"eventlog-rtmr%d\" % i] for i in range(4)] == [\"fail\", \"fail\", \"fail\", \"pass\"], c
" "$T/out"'

run verify "$A/tdx/tdx_quote_5.dat" --eventlog "$E/CCEL_data_csv" $AT
check "verify --eventlog with an SM3 log: failed eventlog check saying why" eval \
	'rc_is 1 && out_has "^  fail  eventlog  .*no SHA-384 digests"'

run verify "$A/snp/test-report.bin" --eventlog "$E/CCEL_data_ovmf" $AT
check "verify an SNP report --eventlog: the log does not apply" eval \
	'rc_is 1 && out_has "^  fail  eventlog  .*goes with a TDX quote"'

run verify "$A/tdx/tdx_quote_5.dat" --eventlog "$T/absent" $AT
check "verify --eventlog with a missing file: an error naming it" eval \
	'[ "$RC" -ne 0 ] && err_has "absent: No such file"'

# Trustee's TDX evidence JSON carries the log: used without --eventlog
python3 - "$A/tdx/tdx_quote_5.dat" "$E/CCEL_data_grub" "$T/trustee.json" <<'PY'
import base64, json, sys
q, l = (open(p, "rb").read() for p in sys.argv[1:3])
json.dump({"quote": base64.b64encode(q).decode(), "cc_eventlog": base64.b64encode(l).decode()},
          open(sys.argv[3], "w"))
PY
run verify "$T/trustee.json" $AT
check "verify Trustee evidence: its cc_eventlog is replayed RTMR by RTMR" eval \
	'rc_is 1 && out_has "^  pass  eventlog  *the evidence.s cc_eventlog: 37 events replayed" &&
	 out_has "^  fail  eventlog-rtmr2  *the log.s 8 events replay to 08919d01...999fd31e, the quote.s RTMR2 is 00000000...00000000"'

# --expect: the expected events of a measurement document, matched against the log
python3 - "$A/tdx/tdx_quote_5.dat" "$E/CCEL_data_ovmf_out.json" "$T/expect.json" <<'PY'
import json, sys
q = open(sys.argv[1], "rb").read()
mrtd = q[0x30 + 6 + 136:0x30 + 6 + 184].hex()
log = json.load(open(sys.argv[2]))["uefi_event_logs"]
ev = [{"rtmr": e["index"] - 1, "type": e["type_name"], "description": "event %d" % i,
       "digest": e["digests"][0]["digest"]} for i, e in enumerate(log) if e["index"] in (2, 3)]
ev[0]["digest"] = "00" * 48  # the kernel differs
json.dump({"schema": "cvmkit-measurement/1", "tee": "tdx", "mode": "tdx", "algorithm": "sha384",
           "digest": mrtd, "report": {"mrtd": mrtd}, "events": ev, "inputs": {}, "launch": {}},
          open(sys.argv[3], "w"))
PY
run verify "$A/tdx/tdx_quote_5.dat" --eventlog "$E/CCEL_data_ovmf" --expect "$T/expect.json" $AT
check "verify --expect --eventlog: expected events matched, the differing kernel named" eval \
	'rc_is 1 && out_has "^  fail  events-rtmr1  *1 of 4 expected events are not in the log: kernel differs" &&
	 out_has "^  pass  events-rtmr2  *all 2 expected events are in the log, in order (0 more logged)"'

# Accepting by event: a quote (signature broken by the edit) whose RTMRs are the OVMF log's
# replay, and a document whose RTMR1 value differs but whose RTMR1 events are in the log
python3 - "$A/tdx/tdx_quote_5.dat" "$E/CCEL_data_ovmf_out.json" "$T/q.dat" "$T/exp2.json" <<'PY'
import hashlib, json, sys
q = bytearray(open(sys.argv[1], "rb").read())
log = json.load(open(sys.argv[2]))["uefi_event_logs"]
r = [bytes(48)] * 4
for e in log:
    i = e["index"] - 1
    r[i] = hashlib.sha384(r[i] + bytes.fromhex(e["digests"][0]["digest"])).digest()
body = 0x30 + 6  # v5: the body follows a 6-byte descriptor
for i in range(4):
    q[body + 328 + 48 * i:body + 376 + 48 * i] = r[i]
open(sys.argv[3], "wb").write(q)
mrtd = q[body + 136:body + 184].hex()
ev = [{"rtmr": 1, "type": e["type_name"], "description": "event %d" % n,
       "digest": e["digests"][0]["digest"]} for n, e in enumerate(log) if e["index"] == 2][:2]
json.dump({"schema": "cvmkit-measurement/1", "tee": "tdx", "mode": "tdx", "algorithm": "sha384",
           "digest": mrtd, "report": {"mrtd": mrtd, "rtmr0": None, "rtmr1": "11" * 48,
                                      "rtmr2": None, "rtmr3": None},
           "events": ev, "inputs": {}, "launch": {}}, open(sys.argv[4], "w"))
PY
run verify "$T/q.dat" --eventlog "$E/CCEL_data_ovmf" --expect "$T/exp2.json" $AT
check "verify --eventlog: a log that is the quote's replays RTMR by RTMR" eval \
	'out_has "^  pass  eventlog-rtmr0  *the log.s 14 events replay to the quote.s RTMR0" &&
	 out_has "^  pass  eventlog-rtmr2  *the log.s 2 events replay to the quote.s RTMR2"'
check "verify --expect --eventlog: RTMR1 accepted by event (2 expected events, 2 more logged)" eval \
	'out_has "^  pass  rtmr1  *accepted by event: RTMR1 is not the expected value, but the event log replays to it and holds all 2 expected events (2 more)" &&
	 out_has "^  pass  events-rtmr1  *all 2 expected events are in the log, in order (2 more logged)" &&
	 out_has "^  fail  quote-signature"'
run verify "$T/q.dat" --expect "$T/exp2.json" $AT
check "without the log the same RTMR1 fails by value" eval \
	'rc_is 1 && out_has "^  fail  rtmr1 "'
