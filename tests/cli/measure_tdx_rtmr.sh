# cvmkit measure with the tdx RTMR0 inputs of a policy (docs/tdx-rtmr.md): CCEL_data_ovmf's RTMR0
# from examples/tdx-rtmr0-ccel-ovmf.json equals the log's replay; a variable store and the boot
# entries of CCEL_data_grub give that log's Secure Boot and boot-variable events; RTMR0 is null
# with its missing inputs listed otherwise.
. tests/cli/lib.sh

OVMF=/usr/share/ovmf/OVMF.fd
MS_VARS=/usr/share/OVMF/OVMF_VARS.ms.fd
MS_VARS_4M=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
LOGS=${SHARED:+$SHARED/vectors/eventlog/confidential-containers-trustee}

names="RTMR0 of CCEL_data_ovmf from the example policy|the grub log's Secure Boot and boot events from a varstore and boot entries|RTMR0 null with the missing inputs|a varstore that is not one is refused|the example policy survives CBOR|RVPS carries the computed RTMR0|a varstore of another size than the CFV is refused|ACPI blobs as files measure as their digests"
skip_all() {
	echo "$names" | tr '|' '\n' | while read -r n; do skip "measure tdx rtmr: $n" "$1"; done
	exit 0
}
[ -r "$OVMF" ] || skip_all "$OVMF not installed (package ovmf)"
[ -n "$LOGS" ] && [ -r "$LOGS/CCEL_data_ovmf" ] || skip_all "event log vectors missing"

# replayed RTMR0 of a log, and the digest of its event N
log_rtmr0() {
	"$CVMKIT" eventlog show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["replay"]["rtmr"][0])'
}

run measure examples/tdx-rtmr0-ccel-ovmf.json
want=$(log_rtmr0 "$LOGS/CCEL_data_ovmf")
check "measure tdx rtmr: RTMR0 of CCEL_data_ovmf from the example policy" eval 'rc_is 0 && [ -n "$want" ] && out_has "\"rtmr0\": \"$want\"" && out_has "\"cfv_sha384\": \"344bc51c" && ! out_has rtmr0_missing'

# CCEL_data_grub: SecureBoot 1, db and dbx as Debian's Microsoft varstore enrolls them (PK and
# KEK differ), BootOrder 0001,0000 with the log's two entries (Boot0001 as the log's raw load
# option, Boot0000 by its fields).
if [ -r "$MS_VARS" ]; then
	cat >"$T/grub.json" <<EOF2
{"version": 1, "tee": "tdx", "firmware": {"path": "$OVMF"},
 "tdx": {"varstore": "$MS_VARS", "boot_order": ["0001", "0000"],
  "boot_entries": {
   "Boot0001": {"load_option": "010000002800550045004600490020004d006900730063002000440065007600690063006500000002010c00d041030a000000000101060000010101060000000101060000010101060000007fff04004eac0881119f594d850ee21a522c59b2"},
   "Boot0000": {"attributes": "0x109", "description": "UiApp",
     "device_path": "04071400c9bdb87cebf8344faaea3ee4af6516a10406140021aa2c4614760345836e8ab6f46623317fff0400"}}}}
EOF2
	run measure "$T/grub.json"
	"$CVMKIT" eventlog show "$LOGS/CCEL_data_grub" --json >"$T/grub-log.json"
	check "measure tdx rtmr: the grub log's Secure Boot and boot events from a varstore and boot entries" python3 - "$T/out" "$T/grub-log.json" <<'PY'
import json, sys
doc, log = (json.load(open(p)) for p in sys.argv[1:3])
ours = {e["description"].split(" ")[0]: e["digest"] for e in doc["events"] if e["rtmr"] == 0}
theirs = {}
for e in log["events"]:
    name = (e.get("detail") or {}).get("name")
    if e["register"] == "RTMR0" and name and name not in theirs:
        theirs[name] = e["digests"][0]["digest"]
for name in ("SecureBoot", "db", "dbx", "BootOrder", "Boot0001", "Boot0000"):
    if ours.get(name) != theirs.get(name):
        print("# %s: ours %s, log %s" % (name, ours.get(name), theirs.get(name)))
        sys.exit(1)
sys.exit(0 if doc["inputs"]["secure_boot"] == "enabled (1)" and "cfv_source" in doc["inputs"] else 1)
PY
else
	skip "measure tdx rtmr: the grub log's Secure Boot and boot events from a varstore and boot entries" "$MS_VARS not installed"
fi

cat >"$T/partial.json" <<EOF2
{"version": 1, "tee": "tdx", "firmware": {"path": "$OVMF"},
 "tdx": {"acpi": {"rsdp_sha384": "379c9de60d0dd6862394273f66ad30e8707ba61b601e379e9c4718a026e06c66f78a5d98d3fd147b06d9398ccd4174ef"}}}
EOF2
run measure "$T/partial.json"
check "measure tdx rtmr: RTMR0 null with the missing inputs" eval 'rc_is 0 && out_has "\"rtmr0\": null" && out_has "\"rtmr0_missing\": \[" && out_has "\"tdx.acpi.table_loader\"" && out_has "\"tdx.acpi.tables\"" && ! out_has "\"tdx.acpi.rsdp\""'

printf 'not a variable store' >"$T/vars.fd"
cat >"$T/badvars.json" <<EOF2
{"version": 1, "tee": "tdx", "firmware": {"path": "$OVMF"}, "tdx": {"varstore": "vars.fd"}}
EOF2
run measure "$T/badvars.json"
check "measure tdx rtmr: a varstore that is not one is refused" eval 'rc_is 1 && err_has "tdx.varstore" && err_has "_FVH" && [ ! -s "$T/out" ]'

run policy convert examples/tdx-rtmr0-ccel-ovmf.json "$T/ex.cbor" --to cbor
run measure "$T/ex.cbor"
check "measure tdx rtmr: the example policy survives CBOR" eval 'rc_is 0 && out_has "\"rtmr0\": \"$want\""'

run measure examples/tdx-rtmr0-ccel-ovmf.json --format rvps
check "measure tdx rtmr: RVPS carries the computed RTMR0" eval 'rc_is 0 && python3 -c "import base64,json,sys; p=json.loads(base64.b64decode(json.load(open(sys.argv[1]))[\"payload\"])); sys.exit(0 if p[\"rtmr_0\"] == [sys.argv[2]] and \"tdvfkernel\" not in p else 1)" "$T/out" "$want"'

if [ -r "$MS_VARS_4M" ]; then
	cat >"$T/vars4m.json" <<EOF2
{"version": 1, "tee": "tdx", "firmware": {"path": "$OVMF"}, "tdx": {"varstore": "$MS_VARS_4M"}}
EOF2
	run measure "$T/vars4m.json"
	check "measure tdx rtmr: a varstore of another size than the CFV is refused" eval 'rc_is 1 && err_has "540672 bytes, but the firmware.s CFV section is 131072 bytes" && [ ! -s "$T/out" ]'
else
	skip "measure tdx rtmr: a varstore of another size than the CFV is refused" "$MS_VARS_4M not installed"
fi

# The same three ACPI blobs as files and as their SHA-384s give the same RTMR0.
printf 'loader' >"$T/loader.bin"
printf 'RSD PTR ' >"$T/rsdp.bin"
: >"$T/tables.bin"
sha() { python3 -c 'import hashlib,sys; print(hashlib.sha384(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }
cat >"$T/files.json" <<EOF2
{"version": 1, "tee": "tdx", "firmware": {"path": "$OVMF"},
 "tdx": {"acpi": {"table_loader": "loader.bin", "rsdp": "rsdp.bin", "tables": "tables.bin"}}}
EOF2
cat >"$T/digests.json" <<EOF2
{"version": 1, "tee": "tdx", "firmware": {"path": "$OVMF"},
 "tdx": {"acpi": {"table_loader_sha384": "$(sha "$T/loader.bin")", "rsdp_sha384": "$(sha "$T/rsdp.bin")",
  "tables_sha384": "$(sha "$T/tables.bin")"}}}
EOF2
"$CVMKIT" measure "$T/digests.json" >"$T/digests.out" 2>&1
run measure "$T/files.json"
r_files=$(grep '"rtmr0"' "$T/out")
r_digests=$(grep '"rtmr0"' "$T/digests.out")
check "measure tdx rtmr: ACPI blobs as files measure as their digests" eval 'rc_is 0 && [ -n "$r_files" ] && [ "$r_files" = "$r_digests" ] && ! echo "$r_files" | grep -q null && out_has "\"acpi_tables_sha384\": \"$(sha "$T/tables.bin")\""'
