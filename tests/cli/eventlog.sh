# cvmkit eventlog show: the real CC event logs of vectors/eventlog, text and JSON, the ACPI CCEL
# table, and failures.
. tests/cli/lib.sh

E=$SHARED/vectors/eventlog/confidential-containers-trustee
if [ ! -d "$E" ]; then
	skip "eventlog vectors" "$E is missing"
	exit 0
fi
RTMR0=8566f998798db09443b244c62de9a3041fb02e2e6936c4396d784bba2e90177329ec5aba3bb484404f2ab9cc90abe193
ZERO=000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000

run eventlog show "$E/CCEL_data_ovmf"
check "show OVMF log exits 0 with its header" eval \
	'rc_is 0 && out_has "^event log: .*CCEL_data_ovmf (65536 bytes: 65 in the SpecID event, 2055 in 20 events, 63416 free, 0xff fill)" && out_has "^algorithms: SHA-384 (48 bytes)"'
check "show lists each event with register, type, digest and decoded data" eval \
	'out_has "^\[0\] RTMR0 EV_EFI_HANDOFF_TABLES2, 42 data bytes at offset 0x41" && out_has "^    SHA-384 0b8772e5b0b41b83e6044a68397e02f49fb47066b4fbe4917ea2c45c64f323fdacbb37948f821ebaf8bc9c938ba8a749" && out_has "^    Boot0000: \"UiApp\" Fv(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(462caa21-7614-4503-836e-8ab6f4662331)" && out_has "^\[19\] RTMR1 EV_EFI_ACTION" && out_has "^    Exit Boot Services Returned with Success"'
check "show replays RTMR0..3" eval \
	'out_has "^  RTMR0 $RTMR0  14 events" && out_has "^  RTMR2 94eaf7a7bf398ed8d888c91057ae0261802e4f3df084213a76ca7f0b5055ac9d2241de43cd58d9e8b49c503bbf25f34a  2 events" && out_has "^  RTMR3 $ZERO  0 events"'

run eventlog show "$E/CCEL_data_grub"
check "show GRUB log decodes device paths and boot entries" eval \
	'rc_is 0 && out_has "^    PciRoot(0x0)/Pci(0x1,0x0)/Pci(0x0,0x0)/Pci(0x1,0x0)/Pci(0x0,0x0)/HD(15,GPT,00f1275e-5375-43d5-9eb5-de2add4c9932,0x2800,0x35000)/\\\\EFI\\\\BOOT\\\\BOOTX64.EFI$" && out_has "^    BootOrder: 0001,0000$" && out_has "^    SecureBoot: 1 (enabled)$"'

run eventlog show "$E/CCEL_data"
check "show td-shim log (zero fill, vendor info, td-shim events)" eval \
	'rc_is 0 && out_has "0x00 fill)" && out_has "^vendor info: \"td-shim\"" && out_has "^    td_payload_info root=/dev/vda1 console=hvc0 rw$" && out_has "^  RTMR1 0fa3be56af61208bbd179dc7b124988eb929319154663c539d6f46445ecac2fec287075047ff7bd1922829fec28cd3cf  3 events"'

run eventlog show "$E/CCEL_data_csv"
check "show SM3 log lists it and says it cannot be replayed as TDX (exit 0)" eval \
	'rc_is 0 && out_has "^algorithms: SM3 (32 bytes)" && out_has "^\[81\] RTMR1 EV_EFI_ACTION" && out_has "^replay: eventlog: the log has no SHA-384 digests (its algorithms: SM3), so it cannot be replayed into TDX RTMRs"'

# --json: every event of every log has Trustee's MR index, type and digests
for lg in CCEL_data CCEL_data_ovmf CCEL_data_grub CCEL_data_csv; do
	run eventlog show --json "$E/$lg"
	check "show --json $lg agrees with Trustee on every event's index, type, digests and data" eval \
		'rc_is 0 && python3 -c "
import base64, json, sys
d = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))[\"uefi_event_logs\"]
assert len(d[\"events\"]) == len(t), (len(d[\"events\"]), len(t))
for e, w in zip(d[\"events\"], t):
    assert e[\"mr_index\"] == w[\"index\"] and e[\"type\"] == w[\"type_name\"], e[\"number\"]
    assert [(x[\"alg\"], x[\"digest\"]) for x in e[\"digests\"]] == [(x[\"alg\"], x[\"digest\"]) for x in w[\"digests\"]]
    assert bytes.fromhex(e[\"data\"]) == base64.b64decode(w[\"event\"]) and e[\"data_length\"] == len(bytes.fromhex(e[\"data\"]))
    assert e[\"digest_matches_data\"] == w[\"digest_matches_event\"], e[\"number\"]
" "$T/out" "$E/${lg}_out.json"'
done

run eventlog show --json "$E/CCEL_data_ovmf"
check "show --json carries the SpecID header, details and the replay" eval \
	'python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"spec_id\"][\"algorithms\"] == [{\"alg\": \"SHA-384\", \"id\": \"0xc\", \"digest_size\": 48}]
assert d[\"free_length\"] == 63416 and d[\"fill\"] == \"0xff\" and d[\"warnings\"] == []
e = d[\"events\"][13]
assert e[\"register\"] == \"RTMR0\" and e[\"detail\"][\"kind\"] == \"variable\" and e[\"detail\"][\"name\"] == \"Boot0000\"
assert e[\"detail\"][\"vendor\"] == \"8be4df61-93ca-11d2-aa0d-00e098032b8c\"
assert e[\"detail\"][\"load_option\"][\"description\"] == \"UiApp\"
assert [n[\"text\"] for n in d[\"events\"][11][\"detail\"][\"device_path\"][\"nodes\"]] == [\"VenMedia(1428f772-b64a-441e-b8c3-9ebdd7f893c7)\", \"kernel\"]
assert d[\"events\"][7][\"detail\"] == {\"kind\": \"separator\", \"text\": \"0x00000000\", \"value\": \"0x0\"}
r = d[\"replay\"]
assert r[\"replayed\"] and r[\"rtmr\"][0] == sys.argv[2] and r[\"rtmr\"][3] == sys.argv[3] and r[\"events\"] == [14, 4, 2, 0]
" "$T/out" $RTMR0 $ZERO'

run eventlog show --json "$E/CCEL_data_csv"
check "show --json SM3 log: replayed false with the reason" eval \
	'rc_is 0 && python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))[\"replay\"]
assert r[\"replayed\"] is False and \"no SHA-384\" in r[\"reason\"]
" "$T/out"'

# The ACPI CCEL table: LAML bytes of the data are the log area.
python3 - "$T" <<'PY'
import struct, sys
def table(sig, laml, fix=True):
    t = bytearray(56); t[0:4] = sig; struct.pack_into("<I", t, 4, 56); t[8] = 1
    t[10:16] = b"CVMKIT"; t[16:24] = b"TESTTABL"; t[36] = 2
    struct.pack_into("<QQ", t, 40, laml, 0x7e000000)
    if fix:
        t[9] = (-sum(t)) & 0xff
    return bytes(t)
open(sys.argv[1] + "/ccel", "wb").write(table(b"CCEL", 65536))
open(sys.argv[1] + "/ccel-short", "wb").write(table(b"CCEL", 0x848 + 8))
open(sys.argv[1] + "/ccel-bad", "wb").write(table(b"CCEL", 65536, fix=False))
PY
run eventlog show "$E/CCEL_data_ovmf" --ccel-table "$T/ccel"
check "--ccel-table shows the table and reads its log area" eval \
	'rc_is 0 && out_has "^ACPI table: CCEL revision 1, OEM \"CVMKIT\" \"TESTTABL\", CC type 2 (TDX) subtype 0, log area 0x10000 bytes at 0x7e000000" && out_has "  RTMR0 $RTMR0"'
run eventlog show "$E/CCEL_data_ovmf" --ccel-table "$T/ccel-short"
check "--ccel-table with a shorter log area: only that is read, with a warning" eval \
	'rc_is 0 && out_has "2055 in 20 events, 8 free" && out_has "^warning: the data has 65536 bytes; only the CCEL table.s log area (2128 bytes) is read"'
run eventlog show "$E/CCEL_data_ovmf" --ccel-table "$T/ccel-bad"
check "--ccel-table with a bad checksum exits 1 naming the table" eval \
	'rc_is 1 && err_has "^cvmkit eventlog: .*/ccel-bad: CCEL table: checksum mismatch"'

# Failures
head -c 1000 "$E/CCEL_data_ovmf" >"$T/cut"
run eventlog show "$T/cut"
check "a log cut inside an event exits 1 naming the event and offset" eval \
	'rc_is 1 && err_has "^cvmkit eventlog: .*/cut: eventlog: event 9 at offset 0x3cc: the log ends inside digest 1" && [ ! -s "$T/out" ]'
run eventlog show "$E/CCEL_data_ovmf_out.json"
check "a file that is no event log exits 1" eval 'rc_is 1 && err_has "not EV_NO_ACTION: not a TCG event log"'
run eventlog show "$T/missing"
check "a missing log exits 1" eval 'rc_is 1 && err_has "missing"'

# Usage
run eventlog
check "eventlog without a subcommand is a usage error" eval 'rc_is 2 && err_has "missing subcommand (show)"'
run eventlog list x
check "an unknown subcommand is a usage error" eval 'rc_is 2 && err_has "unknown subcommand .list."'
run eventlog show
check "show without LOG is a usage error" eval 'rc_is 2 && err_has "show: expected one LOG, got 0 arguments"'
run eventlog show --bogus "$E/CCEL_data"
check "show with an unknown option is a usage error" eval 'rc_is 2 && err_has "show: unknown option .--bogus."'
run eventlog show "$E/CCEL_data" --ccel-table
check "--ccel-table without a value is a usage error" eval 'rc_is 2 && err_has "needs a value"'
run eventlog show --help
check "show --help describes the options" eval 'rc_is 0 && out_has "--ccel-table FILE" && out_has "^Exit status"'
run --help
check "cvmkit --help lists eventlog" eval 'rc_is 0 && out_has "^  eventlog "'
