# cvmkit inspect: Debian OVMF images, the shared fixtures, JSON output and failures.
. tests/cli/lib.sh

OVMF=/usr/share/ovmf/OVMF.fd
CODE=/usr/share/OVMF/OVMF_CODE.fd
CODE4M=/usr/share/OVMF/OVMF_CODE_4M.fd

if [ -r "$OVMF" ]; then
	run inspect "$OVMF"
	check "inspect OVMF.fd exits 0" rc_is 0
	check "inspect OVMF.fd prints size, sha256 and load address" eval \
		'out_has "^size: *2097152 bytes" && out_has "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773" && out_has "^load address: 0xffe00000"'
	check "inspect OVMF.fd prints the GUID table" eval \
		'out_has "00f771de-1a7e-4fcb-890e-68c77e2fb44e  SEV-ES reset block .*AP reset address 0x80b004" && out_has "e47a6535-984a-4798-865e-4685a7bf8ec2  TDX metadata"'
	check "inspect OVMF.fd prints the SEV section table" eval \
		'out_has "^SEV metadata: ok (offset 0x52c from the end, 5 sections)" && out_has "4  0x0080f000  0x11000 *SNP_SEC_MEM" && out_has "2  0x0080d000  0x1000 *SNP_SECRETS"'
	check "inspect OVMF.fd prints the TDX section table" eval \
		'out_has "^TDX metadata: ok (offset 0x840 from the end, 6 sections)" && out_has "0  BFV  *0x20000  *0x1e0000  *0xffe20000  *0x1e0000  *MR_EXTEND" && out_has "4  TD_HOB  *0x0  *0x0  *0x809000  *0x2000"'
	check "inspect OVMF.fd states its capabilities" eval \
		'out_has "SNP launch: yes" && out_has "SNP measured direct boot (kernel hashes): no (no SNP_KERNEL_HASHES section" && out_has "TDX launch: yes"'

	run inspect --json "$OVMF"
	check "inspect --json OVMF.fd is valid JSON" eval 'rc_is 0 && python3 -m json.tool "$T/out" >/dev/null'
	check "inspect --json carries both section tables and capabilities" eval \
		'python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"size\"] == 2097152 and d[\"load_gpa\"] == \"0xffe00000\"
assert [e[\"name\"] for e in d[\"guid_table\"]] == [\"SEV-ES reset block\", \"SEV secret block\", \"SEV hash table\", \"SEV metadata\", \"TDX metadata\"]
assert d[\"sev\"][\"status\"] == \"ok\" and len(d[\"sev\"][\"sections\"]) == 5
assert d[\"sev\"][\"sections\"][4] == {\"gpa\": \"0x80f000\", \"size\": \"0x11000\", \"type\": \"SNP_SEC_MEM\", \"type_value\": 1}
t = d[\"tdx\"][\"sections\"]
assert d[\"tdx\"][\"status\"] == \"ok\" and [s[\"type\"] for s in t] == [\"BFV\", \"CFV\", \"TempMem\", \"TempMem\", \"TD_HOB\", \"TempMem\"]
assert t[0][\"attribute_names\"] == [\"MR_EXTEND\"] and t[1][\"gpa\"] == \"0xffe00000\"
c = d[\"capabilities\"]
assert c[\"snp_launch\"][\"supported\"] and not c[\"snp_kernel_hashes\"][\"supported\"] and c[\"tdx_launch\"][\"supported\"]
" "$T/out"'

	# The SEV metadata entry's offset (u32 at the entry's data) pointed outside the image.
	off=$(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(int([e for e in d[\"guid_table\"] if e[\"name\"] == \"SEV metadata\"][0][\"offset\"], 16))
" "$T/out")
	cp "$OVMF" "$T/badsev.fd"
	printf '\377\377\377\377' | dd of="$T/badsev.fd" bs=1 seek="$off" conv=notrunc 2>/dev/null
	run inspect "$T/badsev.fd"
	check "inspect of invalid SEV metadata exits 1 and still prints everything" eval \
		'rc_is 1 && out_has "^SEV metadata: invalid (offset 0xffffffff" && out_has "^TDX metadata: ok" && out_has "TDX launch: yes" && err_has "badsev.fd: invalid SEV metadata" && [ $(wc -l <"$T/err") -eq 1 ]'
	run inspect --json "$T/badsev.fd"
	check "inspect --json of invalid SEV metadata exits 1 with the JSON" eval \
		'rc_is 1 && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"sev\"][\"status\"] == \"invalid\" and d[\"tdx\"][\"status\"] == \"ok\"" "$T/out"'
else
	skip "inspect OVMF.fd" "$OVMF missing (package ovmf)"
fi

if [ -r "$CODE" ]; then
	# Its TDX metadata is invalid (raw data runs past the end of the file): everything is
	# printed, and the exit status says the image is invalid for TDX.
	run inspect "$CODE"
	check "inspect OVMF_CODE.fd says split layout for TDX (exit 1, all printed)" eval \
		'rc_is 1 && out_has "^TDX metadata: invalid" && out_has "this looks like a split OVMF_CODE.fd; use the unified OVMF.fd" && out_has "TDX launch: no" && out_has "SNP launch: yes" && err_has "invalid TDX metadata" && [ $(wc -l <"$T/err") -eq 1 ]'
	run inspect --json "$CODE"
	check "inspect --json OVMF_CODE.fd reports the TDX reason (exit 1)" eval \
		'rc_is 1 && python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"tdx\"][\"status\"] == \"invalid\" and \"split OVMF_CODE.fd\" in d[\"tdx\"][\"reason\"]
assert not d[\"capabilities\"][\"tdx_launch\"][\"supported\"]
" "$T/out"'
else
	skip "inspect OVMF_CODE.fd" "$CODE missing (package ovmf)"
fi

if [ -r "$CODE4M" ]; then
	run inspect "$CODE4M"
	check "inspect OVMF_CODE_4M.fd states no SEV and no TDX metadata (exit 0)" eval \
		'rc_is 0 && out_has "^SEV metadata: absent" && out_has "^TDX metadata: absent" && out_has "no TDX metadata entry" && out_has "TDX launch: no"'
else
	skip "inspect OVMF_CODE_4M.fd" "$CODE4M missing (package ovmf)"
fi

if [ -n "$SHARED" ] && [ -r "$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin" ]; then
	# Only the last 4 KiB of the image: its TDX sections run past the end, so exit 1.
	run inspect "$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin"
	check "inspect AmdSev fixture: kernel hashes supported (TDX metadata invalid: exit 1)" eval \
		'rc_is 1 && err_has "invalid TDX metadata" && out_has "^SEV metadata: ok" && out_has "5  0x00810000  0x1000 *SNP_KERNEL_HASHES" && out_has "SNP measured direct boot (kernel hashes): yes" && out_has "gpa 0x810c00 size 0x400"'
	run inspect "$SHARED/vectors/tdx/synth_tdvf_pageaug.bin"
	check "inspect synthetic TDVF shows PAGE_AUG" eval \
		'rc_is 0 && out_has "4  TempMem  *0x0  *0x0  *0x80b000  *0x2000  *PAGE_AUG" && out_has "SEV metadata: absent"'
else
	skip "inspect shared fixtures" "CVMKIT_SHARED not set"
fi

printf 'not a firmware image' >"$T/bad.fd"
run inspect "$T/bad.fd"
check "inspect of a non-page-multiple file exits 1" eval 'rc_is 1 && err_has "not a multiple of 4096"'
run inspect "$T/missing.fd"
check "inspect of a missing file exits 1" eval 'rc_is 1 && err_has "missing.fd"'
: >"$T/empty.fd"
run inspect "$T/empty.fd"
check "inspect of an empty file exits 1" eval 'rc_is 1 && err_has "empty image"'
run inspect
check "inspect without FIRMWARE is a usage error" eval 'rc_is 2 && err_has "missing FIRMWARE"'
run inspect a b
check "inspect with two files is a usage error" eval 'rc_is 2'
run inspect -xh
check "inspect names an unknown option inside a cluster" eval 'rc_is 2 && err_has "unknown option .-x."'
run inspect --json=yes a
check "inspect --json=VALUE says the option takes none" eval 'rc_is 2 && err_has "option .--json. takes no value"'
