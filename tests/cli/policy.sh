# cvmkit policy: the examples pass; each broken policy fails with exit 1 and its own message;
# --json; convert round trip JSON -> CBOR -> JSON; usage errors.
. tests/cli/lib.sh

for ex in examples/snp-qemu.json examples/tdx.json; do
	run policy check "$ex"
	check "policy check $ex passes" eval 'rc_is 0 && out_has ": ok ("'
done
run policy check examples/snp-qemu.json
check "summary names the policy, tee, vmm, vCPUs and memory" \
	out_is "policy snp-qemu-example: ok (snp, qemu, 4 vCPUs, 2 GiB)"

# bad NAME 'JSON' 'expected line on stderr': the policy fails with exit 1 and that line.
bad() {
	printf '%s\n' "$2" >"$T/$1.json"
	bad_want="$T/$1.json: $3"
	run policy check "$T/$1.json"
	check "policy check refuses $1" eval 'rc_is 1 && grep -qF -- "$bad_want" "$T/err"'
}
bad unknown-key '{"version": 1, "tee": "none", "colour": "red"}' \
	'colour: unknown key (expected one of: version, name, tee, vmm, cpus, memory, firmware, boot, snp, tdx, prefault, allow_debug, verify)'
bad wrong-type '{"version": 1, "tee": "none", "cpus": {"count": "four"}}' \
	'cpus.count: expected an integer 1..4096, got "four"'
bad abi-out-of-range '{"version": 1, "tee": "snp", "snp": {"policy": {"abi_major": 300}}}' \
	'snp.policy.abi_major: expected an integer 0..255, got 300'
bad memory-not-page-multiple '{"version": 1, "tee": "none", "memory": {"size": 1000}}' \
	'memory.size: expected a multiple of 4096 (the page size), got 1000'
bad prefault-overlap '{"version": 1, "tee": "none", "prefault": {"ranges": [{"gpa": "0x0", "size": "2M"}, {"gpa": "0x100000", "size": "4K"}]}}' \
	'prefault.ranges[1]: [0x100000, 0x101000) overlaps prefault.ranges[0] [0x0, 0x200000)'
bad prefault-unaligned '{"version": 1, "tee": "none", "prefault": {"ranges": [{"gpa": "0x800", "size": "4K"}]}}' \
	'prefault.ranges[0].gpa: expected a multiple of 4096 (page aligned), got 0x800'
bad debug-without-allow '{"version": 1, "tee": "snp", "snp": {"policy": {"debug": true}}}' \
	'snp.policy.debug: a debug guest (its memory readable by the host) is refused unless the policy also says "allow_debug": true'
bad tdx-debug-without-allow '{"version": 1, "tee": "tdx", "tdx": {"attributes": {"debug": true}}}' \
	'tdx.attributes.debug: a debug TD'
bad initrd-without-kernel '{"version": 1, "tee": "none", "boot": {"initrd": "initrd.img"}}' \
	'boot.initrd: an initrd needs boot.kernel (direct boot)'
bad bad-version '{"version": 2, "tee": "none"}' \
	'version: expected 1 (the only version this cvmkit reads), got 2'
bad block-of-other-tee '{"version": 1, "tee": "snp", "tdx": {}}' \
	'tdx: this block needs "tee": "tdx", but tee is "snp"'
bad bad-json '{"version": 1, "tee": "none",}' \
	'invalid JSON at line 1, column 30'

# Every problem is listed, one per line.
bad many '{"version": 2, "tee": "none", "cpus": {"count": 0}, "memory": {"size": "1K"}, "x": 1}' \
	'x: unknown key'
check "every problem is listed, one line each" eval '[ "$(wc -l <"$T/err")" -eq 4 ] && err_has "many.json: version: " && err_has "many.json: cpus.count: " && err_has "many.json: memory.size: "'

# The SHA-256 pin is checked when the firmware is present.
printf 'abc' >"$T/fw.fd"
cat >"$T/pinned.json" <<EOF
{"version": 1, "tee": "none", "firmware": {"path": "fw.fd",
 "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}}
EOF
run policy check "$T/pinned.json"
check "a matching firmware pin passes" rc_is 0
printf 'abd' >"$T/fw.fd"
run policy check "$T/pinned.json"
check "a firmware pin mismatch fails" eval 'rc_is 1 && err_has "pinned.json: firmware.sha256: .*fw.fd hashes to a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9, the policy pins ba7816bf"'

# --json
run policy check examples/tdx.json --json
check "--json on a valid policy" eval 'rc_is 0 && out_has "\"ok\": true" && out_has "\"problems\": \[$"'
run policy check --json "$T/many.json"
check "--json lists every problem with path and message" eval 'rc_is 1 && out_has "\"ok\": false" && out_has "\"path\": \"cpus.count\"" && out_has "\"message\": \"expected an integer 1..4096, got 0\"" && [ "$(grep -c "\"path\"" "$T/out")" -eq 4 ]'
run policy check --json "$T/no-such-file.json"
check "--json on a missing file" eval 'rc_is 1 && out_has "\"ok\": false" && out_has "No such file"'

# convert: JSON -> CBOR -> JSON gives the same policy; the format comes from the content.
mkdir -p "$T/conv"
cat >"$T/conv/vm.json" <<'EOF'
{"version": 1, "name": "conv", "tee": "snp", "vmm": "gce",
 "cpus": {"count": 8, "family": 25, "model_id": 17, "stepping": 0},
 "memory": {"size": "4G"}, "firmware": {"path": "OVMF.fd"},
 "boot": {"kernel": "vmlinuz", "initrd": "initrd.img", "cmdline": "console=ttyS0"},
 "snp": {"policy": {"smt": false, "abi_major": 1, "abi_minor": 55}, "guest_features": 33,
         "host_data": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
 "prefault": {"mode": "required", "ranges": [{"gpa": "0x100000", "size": "1M"}]}}
EOF
run policy convert "$T/conv/vm.json" "$T/conv/vm.cbor"
check "convert JSON to CBOR (by extension)" eval 'rc_is 0 && od -An -tx1 -N1 "$T/conv/vm.cbor" | grep -q "^ *[ab]"'
run policy check "$T/conv/vm.cbor"
check "the CBOR policy passes check" eval 'rc_is 0 && out_is "policy conv: ok (snp, gce, 8 vCPUs, 4 GiB)"'
run policy convert "$T/conv/vm.cbor" "$T/conv/back.json"
run policy convert "$T/conv/vm.json" "$T/conv/direct.json"
check "JSON -> CBOR -> JSON equals JSON -> JSON" cmp -s "$T/conv/back.json" "$T/conv/direct.json"
check "converted JSON keeps relative paths and the derived signature" eval \
	'grep -q "\"path\": \"OVMF.fd\"" "$T/conv/back.json" && grep -q "\"signature\": \"0x00a10f10\"" "$T/conv/back.json"'
cp "$T/conv/vm.cbor" "$T/conv/cbor-named.json"
run policy convert "$T/conv/cbor-named.json" - --to json
check "the format is read from the content, not the name" eval 'rc_is 0 && out_has "\"name\": \"conv\""'
mkdir -p "$T/other"
run policy convert "$T/conv/vm.json" "$T/other/vm.json"
check "converting into another folder keeps paths pointing at the same files" \
	eval 'rc_is 0 && grep -q "\"path\": \"/.*/conv/OVMF.fd\"" "$T/other/vm.json"'
run policy convert "$T/bad-version.json" "$T/never.cbor"
check "convert of a broken policy fails and writes nothing" \
	eval 'rc_is 1 && err_has "version: expected 1" && [ ! -e "$T/never.cbor" ]'

# Every output of convert reads back through cvmkit's own reader and converts back to the same
# bytes: the examples, a policy setting every SNP field, one setting every TDX field.
mkdir -p "$T/rt"
cat >"$T/rt/snp-all.json" <<'EOF'
{"version": 1, "name": "every field \u00e9", "tee": "snp", "vmm": "ec2",
 "cpus": {"count": 4096, "signature": "0x00a00f11"}, "memory": {"size": "0x1000"},
 "firmware": {"path": "fw.fd", "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
 "boot": {"kernel": "k", "initrd": "i", "cmdline": ""},
 "snp": {"policy": {"smt": true, "abi_major": 255, "abi_minor": 255, "migrate_ma": true,
   "single_socket": true, "cxl_allow": true, "mem_aes_256_xts": true, "rapl_dis": true,
   "ciphertext_hiding": true, "page_swap_disable": true, "debug": true},
   "guest_features": "0xffffffffffffffff",
   "host_data": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
   "firmware_digest": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f000102030405060708090a0b0c0d0e0f",
   "id_block": {"family_id": "000102030405060708090a0b0c0d0e0f", "image_id": "000102030405060708090a0b0c0d0e0f",
     "guest_svn": 4294967295, "id_key": "id.pem", "author_key": "a.pem"}},
 "prefault": {"mode": "off", "ranges": [{"gpa": "0x0", "size": "4K"}]}, "allow_debug": true}
EOF
cat >"$T/rt/tdx-all.json" <<'EOF'
{"version": 1, "tee": "tdx", "vmm": "cvmkit", "memory": {"size": "8G"},
 "tdx": {"attributes": {"debug": false, "sept_ve_disable": false, "pks": true, "perfmon": true},
   "xfam": "0xffffffffffffffff",
   "mrconfigid": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f000102030405060708090a0b0c0d0e0f",
   "measure_order": "two-pass", "page_aug": "honour"},
 "prefault": {"mode": "required", "ranges": [{"gpa": "4G", "size": "2G"}, {"gpa": 0, "size": "1M"}]}}
EOF
for src in examples/snp-qemu.json examples/tdx.json examples/default-vm.json "$T/rt/snp-all.json" "$T/rt/tdx-all.json"; do
	b=$(basename "$src" .json)
	for fmt in json cbor; do
		run policy convert "$src" "$T/rt/$b.out.$fmt" --to $fmt
		ok1=$RC
		run policy check "$T/rt/$b.out.$fmt"
		ok2=$RC
		run policy convert "$T/rt/$b.out.$fmt" "$T/rt/$b.back.$fmt.json" --to json
		check "convert $b to $fmt reads back through cvmkit's reader" eval \
			'[ $ok1 -eq 0 ] && [ $ok2 -eq 0 ] && rc_is 0'
	done
	check "$b: its JSON and CBOR outputs convert back to the same JSON" eval \
		'cmp -s "$T/rt/$b.back.json.json" "$T/rt/$b.out.json" && cmp -s "$T/rt/$b.back.cbor.json" "$T/rt/$b.out.json"'
done

# usage errors
run policy convert "$T/conv/vm.json" "$T/conv/vm.txt"
check "convert without a known extension or --to is a usage error" eval 'rc_is 2 && err_has "give --to json|cbor"'
run policy convert --to yaml "$T/conv/vm.json" "$T/conv/vm.out"
check "convert --to yaml is a usage error" eval 'rc_is 2 && err_has "--to expects json or cbor"'
run policy frobnicate
check "unknown subcommand exits 2" eval 'rc_is 2 && err_has "unknown subcommand .frobnicate."'
run policy
check "no subcommand exits 2" rc_is 2
run policy check
check "check without FILE exits 2" eval 'rc_is 2 && err_has "got 0 arguments (see"'
run policy convert "$T/conv/vm.cbor"
check "convert with one argument says so in the singular" eval 'rc_is 2 && err_has "convert: expected IN and OUT, got 1 argument (see"'
run policy check a.json b.json
check "check with two files exits 2 (plural)" eval 'rc_is 2 && err_has "expected one FILE, got 2 arguments (see"'
run policy check --bogus examples/tdx.json
check "check --bogus exits 2" eval 'rc_is 2 && err_has "unknown option"'
run policy check --help
check "policy check --help" eval 'rc_is 0 && out_has "usage: cvmkit policy check FILE"'
run policy convert --help
check "policy convert --help" eval 'rc_is 0 && out_has "usage: cvmkit policy convert IN OUT"'
