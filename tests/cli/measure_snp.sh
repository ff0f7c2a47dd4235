# cvmkit measure, SEV-SNP / SEV / SEV-ES: the sev-snp-measure vectors (vectors/snp/VECTORS.md)
# through the CLI, Debian's OVMF, the split computation, matrix mode, output files and refusals.
# The Debian values come from an independent Python transcription of spec/snp-measurement.md.
. tests/cli/lib.sh

V=$SHARED/vectors/snp
AMDSEV=$V/ovmf_AmdSev_suffix.bin
X64=$V/ovmf_OvmfX64_suffix.bin
DEB=/usr/share/OVMF/OVMF_CODE.fd
DEB4M=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_HASH=086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74
NULLBOOT="--kernel /dev/null --initrd /dev/null"

# vec NAME EXPECTED ARGS...: cvmkit measure --format hex ARGS prints exactly EXPECTED.
vec() {
	name=$1 want=$2
	shift 2
	run measure --format hex "$@"
	check "vector $name" eval 'rc_is 0 && out_is "'"$want"'"'
}

if [ ! -f "$AMDSEV" ]; then
	skip "sev-snp-measure vectors" "fixtures missing under $V"
	exit 0
fi

# ---- vectors of sev-snp-measure's tests/test_guest.py --------------------------------------
run measure --firmware "$AMDSEV" --firmware-digest-only
check "vector snp_ovmf_hash_full_default (--firmware-digest-only)" eval 'rc_is 0 && out_is "$OVMF_HASH"'
vec snp_ovmf_hash_gen_default \
	329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198 \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 $NULLBOOT --append '' --guest-features 0x21 \
	--firmware-digest "$OVMF_HASH"
vec snp_ovmf_hash_gen_feature_snp_only \
	ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5 \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 $NULLBOOT --append '' --guest-features 0x1 \
	--firmware-digest "$OVMF_HASH"
vec snp_default \
	803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977 \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 $NULLBOOT --append 'console=ttyS0 loglevel=7' \
	--guest-features 0x21
vec snp_guest_feature_snp_only \
	6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 $NULLBOOT --append 'console=ttyS0 loglevel=7' \
	--guest-features 0x1
vec snp_ec2_default \
	0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 --vmm ec2 $NULLBOOT --append '' --guest-features 0x21
vec snp_ec2_feature_snp_only \
	0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056 \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 --vmm ec2 $NULLBOOT --append '' --guest-features 0x1
vec snp_gce_default \
	5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e \
	--firmware "$AMDSEV" --vcpus 1 --vmm gce $NULLBOOT --append '' --guest-features 0x1
vec snp_gce_with_multiple_vcpus_default \
	5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d \
	--firmware "$AMDSEV" --vcpus 4 --vmm gce $NULLBOOT --append '' --guest-features 0x1
vec snp_without_kernel_default \
	e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 --guest-features 0x21
vec snp_without_kernel_feature_snp_only \
	19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 --guest-features 0x1
vec snp_with_multiple_vcpus_default \
	4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942 \
	--firmware "$AMDSEV" --vcpus 4 --cpu EPYC-v4 $NULLBOOT --append '' --guest-features 0x21
vec snp_with_multiple_vcpus_feature_snp_only \
	5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5 \
	--firmware "$AMDSEV" --vcpus 4 --cpu EPYC-v4 $NULLBOOT --append '' --guest-features 0x1
vec snp_with_ovmfx64_without_default \
	28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385 \
	--firmware "$X64" --vcpus 1 --cpu EPYC-v4 --guest-features 0x21
vec snp_with_ovmfx64_without_kernel_feature_snp_only \
	da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005 \
	--firmware "$X64" --vcpus 1 --cpu EPYC-v4 --guest-features 0x1
vec readme_snp_ovmf_hash \
	cddf7506c479497762a124417f6e67c1fac1c4f58cb88c0a6faa01a886001c91419bdddae02ad292e1329ab25bba7de7 \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 $NULLBOOT --append '' --guest-features 0x21 \
	--firmware-digest cab7e085874b3acfdbe2d96dcaa3125111f00c35c6fc9708464c2ae74bfdb048a198cb9a9ccae0b3e5e1a33f5f249819
vec seves 13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c \
	--mode seves --firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 $NULLBOOT --append ''
vec seves_with_multiple_vcpus 0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91 \
	--mode seves --firmware "$AMDSEV" --vcpus 4 --cpu EPYC-v4 $NULLBOOT --append ''
vec sev 82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff \
	--mode sev --firmware "$AMDSEV" $NULLBOOT --append 'console=ttyS0 loglevel=7'
vec sev_with_kernel_without_initrd_and_append \
	77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898 \
	--mode sev --firmware "$AMDSEV" --kernel /dev/null
vec sev_with_ovmfx64_without_kernel b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da \
	--mode sev --firmware "$X64"

# Empty regular files measure like /dev/null.
: >"$T/empty"
vec snp_default_with_empty_files \
	803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977 \
	--firmware "$AMDSEV" --vcpus 1 --cpu EPYC-v4 --kernel "$T/empty" --initrd "$T/empty" \
	--append 'console=ttyS0 loglevel=7' --guest-features 0x21
# A raw signature or family/model/stepping stands for the model; cvmkit's VMM measures as QEMU.
vec vcpu_sig_equals_model \
	e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b \
	--firmware "$AMDSEV" --vcpu-sig 0x800f12 --guest-features 0x21
vec vcpu_family_model_stepping \
	e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b \
	--firmware "$AMDSEV" --vcpu-family 23 --vcpu-model 1 --vcpu-stepping 2 --guest-features 0x21
vec vmm_cvmkit_equals_qemu \
	e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b \
	--firmware "$AMDSEV" --vmm cvmkit --cpu EPYC-v4 --guest-features 0x21

# ---- the measurement document --------------------------------------------------------------
run measure --firmware "$AMDSEV" --vcpus 2 --cpu EPYC-v4 $NULLBOOT --append 'console=ttyS0' \
	--guest-features 0x21
check "JSON document carries the digest inputs" eval 'rc_is 0 && out_has "\"tee\": \"snp\"" &&
	out_has "\"firmware_sha256\": \"8f765dfabc127fc0a938a0744a3103ec15864d7d794eb4c398aa976b6d6ab16c\"" &&
	out_has "\"vcpus\": 2" && out_has "\"vcpu_signature\": \"0x00800f12\"" &&
	out_has "\"guest_features\": \"0x21\"" && out_has "\"vmm\": \"qemu\"" &&
	out_has "\"kernel_sha256\": \"e3b0c442" && out_has "\"cmdline_sha256\"" &&
	out_has "\"policy\": \"0x30000\"" && out_has "\"host_data\""'
run measure --firmware "$AMDSEV" --cpu EPYC-v4 --firmware-digest "$OVMF_HASH"
check "JSON document names the firmware digest seed" eval 'rc_is 0 && out_has "\"firmware_digest\": \"$OVMF_HASH\""'
run measure --mode seves --firmware "$AMDSEV" --cpu EPYC-v4
check "SEV-ES document is sha256" eval 'rc_is 0 && out_has "\"mode\": \"seves\"" && out_has "\"algorithm\": \"sha256\""'
for fmt in cbor corim rvps; do
	run measure --firmware "$AMDSEV" --cpu EPYC-v4 --format $fmt
	check "--format $fmt writes a document" eval 'rc_is 0 && [ -s "$T/out" ]'
done

run measure --firmware "$AMDSEV" --cpu EPYC-v4 --format hex --out "$T/digest.txt"
check "--out writes the file and nothing to stdout" eval 'rc_is 0 && [ ! -s "$T/out" ] &&
	[ "$(cat "$T/digest.txt")" = "$("$CVMKIT" measure --firmware "$AMDSEV" --cpu EPYC-v4 --format hex)" ]'
echo keep >"$T/kept"
run measure --firmware "$AMDSEV" --cpu NoSuchCPU --out "$T/kept"
check "a failed run leaves --out untouched" eval 'rc_is 1 && [ "$(cat "$T/kept")" = keep ]'

# A policy file, with flags overriding it.
cat >"$T/p.json" <<EOF
{"version": 1, "tee": "snp", "vmm": "qemu", "cpus": {"count": 4, "model": "EPYC-v4"},
 "firmware": {"path": "$AMDSEV"},
 "boot": {"kernel": "/dev/null", "initrd": "/dev/null", "cmdline": ""},
 "snp": {"guest_features": "0x21"}}
EOF
run measure "$T/p.json" --format hex
check "policy file measures like the flags" eval 'rc_is 0 && out_is 4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942'
run measure "$T/p.json" --format hex --guest-features 0x1
check "flags override the policy" eval 'rc_is 0 && out_is 5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5'
cat >"$T/seed.json" <<EOF
{"version": 1, "tee": "snp", "cpus": {"count": 1, "model": "EPYC-v4"},
 "firmware": {"path": "$AMDSEV"},
 "boot": {"kernel": "/dev/null", "initrd": "/dev/null", "cmdline": ""},
 "snp": {"guest_features": "0x21", "firmware_digest": "$OVMF_HASH"}}
EOF
run measure "$T/seed.json" --format hex
check "policy snp.firmware_digest seeds the chain" eval 'rc_is 0 && out_is 329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198'

# ---- Debian's OVMF ---------------------------------------------------------------------------
if [ -f "$DEB" ]; then
	vec debian_code_1_epyc_v4 \
		a479327cbb0b50e876024c2dac7412d4e5e95c7315c1f8b0446f6d3be69fefba50766285475926737e4a70b155252f88 \
		--firmware "$DEB" --vcpus 1 --cpu EPYC-v4
	vec debian_code_4_milan \
		cc2b38913550ecd41aadbcf2a5d309ae9d3cb0455c9e1f72892f6b18cfaea3f2e4f46a28b61ca0353724ee707c73177c \
		--firmware "$DEB" --vcpus 4 --cpu EPYC-Milan
	vec debian_code_16_genoa \
		93f99244700888f359c9ca69c2131c97f0e8fbf080b33ce67fa94b4cf96f289332e88fa470b3198ee7475159e332c31b \
		--firmware "$DEB" --vcpus 16 --cpu EPYC-Genoa
	vec debian_code_2_ec2 \
		d678fcd1097a1ac27f2ee75dac7c37a002c9aa5e3e407c6a284b780a99af8f39df3283f1ed05526483cc5684f9b28630 \
		--firmware "$DEB" --vcpus 2 --vmm ec2
	run measure --firmware "$DEB" --firmware-digest-only
	check "Debian OVMF_CODE.fd firmware digest" eval 'rc_is 0 && out_is a5429c12f18e96502e1dd4917e8b0c35e4f4ebceac5fe8820b41d91d1c509abeb28146fcc453e8be4d3ede27c3fbaad3'
	# --threads spreads the page hashes only: every thread count gives the same digests.
	for n in 1 2 3; do
		run measure --firmware "$DEB" --firmware-digest-only --threads $n
		check "firmware digest on --threads $n" eval 'rc_is 0 && out_is a5429c12f18e96502e1dd4917e8b0c35e4f4ebceac5fe8820b41d91d1c509abeb28146fcc453e8be4d3ede27c3fbaad3'
		vec "debian_code_4_milan --threads $n" \
			cc2b38913550ecd41aadbcf2a5d309ae9d3cb0455c9e1f72892f6b18cfaea3f2e4f46a28b61ca0353724ee707c73177c \
			--firmware "$DEB" --vcpus 4 --cpu EPYC-Milan --threads $n
	done
	run measure --firmware "$DEB" --threads 0
	check "--threads 0 is a usage error" eval 'rc_is 2 && err_has "--threads: expected a count 1..256"'
	# The split computation: the last 4 KiB of the image plus the firmware digest.
	tail -c 4096 "$DEB" >"$T/deb_suffix.bin"
	vec debian_code_split_from_suffix \
		cc2b38913550ecd41aadbcf2a5d309ae9d3cb0455c9e1f72892f6b18cfaea3f2e4f46a28b61ca0353724ee707c73177c \
		--firmware "$T/deb_suffix.bin" --vcpus 4 --cpu EPYC-Milan \
		--firmware-digest a5429c12f18e96502e1dd4917e8b0c35e4f4ebceac5fe8820b41d91d1c509abeb28146fcc453e8be4d3ede27c3fbaad3

	# ---- matrix mode ----------------------------------------------------------------------
	run measure --firmware "$DEB" --vcpus 1-64 --cpu EPYC-v4,EPYC-Rome,EPYC-Milan,EPYC-Genoa,EPYC-Turin
	check "matrix prints a header and 320 rows" eval 'rc_is 0 && [ $(wc -l <"$T/out") -eq 321 ] && out_has "^vcpus  cpu"'
	check "matrix row equals the single measurement" eval \
		'grep -q "^4 .*EPYC-Milan .*0x00a00f11  cc2b38913550ecd41aadbcf2a5d309ae9d3cb0455c9e1f72892f6b18cfaea3f2e4f46a28b61ca0353724ee707c73177c$" "$T/out" &&
		 grep -q "^16 .*EPYC-Genoa .*93f99244700888f359c9ca69c2131c97f0e8fbf080b33ce67fa94b4cf96f289332e88fa470b3198ee7475159e332c31b$" "$T/out"'
	run measure --firmware "$DEB" --vcpus 1,4 --cpu EPYC-Milan --format json
	check "matrix JSON lines" eval 'rc_is 0 && [ $(wc -l <"$T/out") -eq 2 ] &&
		out_has "^{\"vcpus\":4,\"cpu\":\"EPYC-Milan\",\"vcpu_signature\":\"0x00a00f11\",\"vmm\":\"qemu\",\"digest\":\"cc2b3891"'
	run measure --firmware "$DEB" --vcpus 1-2 --cpu EPYC-v4 --format hex
	check "matrix bare digests" eval 'rc_is 0 && [ $(wc -l <"$T/out") -eq 2 ] &&
		out_has "^a479327cbb0b50e876024c2dac7412d4e5e95c7315c1f8b0446f6d3be69fefba50766285475926737e4a70b155252f88$"'
	run measure --firmware "$DEB" --vcpus 1-4 --cpu EPYC-Milan,Pentium
	check "matrix refuses an unknown model" eval 'rc_is 1 && err_has "Pentium"'
	run measure --firmware "$DEB" --vcpus 1-4 --cpu EPYC --mode sev
	check "matrix is SNP only" eval 'rc_is 2'

	run measure --firmware "$DEB" --cpu EPYC --kernel /dev/null
	check "Debian OVMF with a kernel asks for an AmdSev build" eval 'rc_is 1 && err_has "AmdSev" && err_has "SNP_KERNEL_HASHES"'
else
	skip "Debian OVMF_CODE.fd vectors and matrix" "$DEB missing (Debian package ovmf)"
fi

# ---- refusals --------------------------------------------------------------------------------
if [ -f "$DEB4M" ]; then
	run measure --firmware "$DEB4M" --cpu EPYC
	check "firmware without SEV metadata is refused" eval 'rc_is 1 && err_has "no SEV metadata"'
else
	skip "firmware without SEV metadata (Debian)" "$DEB4M missing"
fi
head -c 8192 /dev/zero >"$T/blank.fd"
run measure --firmware "$T/blank.fd" --cpu EPYC
check "blank image is refused for lack of SEV metadata" eval 'rc_is 1 && err_has "no SEV metadata"'
# The fixture with its SEV-ES reset block GUID (at offset 4030) altered.
cp "$AMDSEV" "$T/noreset.bin" && chmod u+w "$T/noreset.bin"
printf '\377' | dd of="$T/noreset.bin" bs=1 seek=4045 conv=notrunc 2>/dev/null
run measure --firmware "$T/noreset.bin" --cpu EPYC
check "firmware without SEV-ES reset block is refused" eval 'rc_is 1 && err_has "SEV-ES reset block"'
run measure --firmware "$X64" --cpu EPYC-v4 $NULLBOOT --append ''
check "kernel for firmware without kernel-hashes section is refused" eval 'rc_is 1 && err_has "AmdSev"'
run measure --mode seves --firmware "$X64" --vcpu-sig 0 $NULLBOOT --append ''
check "SEV-ES kernel for firmware without hash table is refused" eval 'rc_is 1 && err_has "hash-table"'
run measure --mode sev --firmware "$X64" $NULLBOOT --append ''
check "SEV kernel for firmware without hash table is refused" eval 'rc_is 1 && err_has "hash-table"'
head -c 4097 /dev/zero >"$T/odd.fd"
run measure --firmware "$T/odd.fd" --cpu EPYC
check "firmware size not a page multiple is refused" eval 'rc_is 1 && err_has "4096"'
run measure --firmware "$AMDSEV" --cpu EPYC-Mars
check "unknown CPU model lists the known ones" eval 'rc_is 1 && err_has "unknown CPU model .EPYC-Mars." && err_has "EPYC-Genoa-v1" && err_has "EPYC-Turin"'
run measure --firmware "$AMDSEV"
check "QEMU without a vCPU type is refused" eval 'rc_is 1 && err_has "cpus.model"'
run measure --firmware "$AMDSEV" --cpu EPYC --initrd /dev/null
check "--initrd without --kernel is refused by the policy validator (usage)" eval 'rc_is 2 && err_has "the command-line options: boot.initrd: an initrd needs boot.kernel"'
run measure --firmware "$AMDSEV" --cpu EPYC --append 'console=ttyS0'
check "--append without --kernel is refused by the policy validator (usage)" eval 'rc_is 2 && err_has "boot.cmdline: a command line needs boot.kernel"'
run measure --firmware "$AMDSEV" --cpu EPYC --kernel "$T/does-not-exist"
check "missing kernel file is an error" eval 'rc_is 1 && err_has "does-not-exist"'
run measure --firmware "$AMDSEV" --cpu EPYC --mode snp:svsm
check "unknown --mode is a usage error" eval 'rc_is 2 && err_has "--mode"'
run measure --firmware "$AMDSEV" --cpu EPYC --vcpus 0
check "--vcpus 0 is a usage error" eval 'rc_is 2'
run measure --firmware "$AMDSEV" --cpu EPYC --firmware-digest abcd
check "short --firmware-digest is a usage error" eval 'rc_is 2'
run measure --firmware "$AMDSEV" --vcpu-family 23
check "--vcpu-family alone is a usage error" eval 'rc_is 2'
run measure --cpu EPYC
check "neither POLICY nor --firmware is a usage error" eval 'rc_is 2 && err_has "give a POLICY or --firmware FILE"'
printf '{"version": 1, "tee": "snp", "cpus": {"count": 1, "model": "EPYC"}}\n' >"$T/nofw.json"
run measure "$T/nofw.json"
check "a policy without firmware is a job failure" eval 'rc_is 1 && err_has "no firmware"'
printf '{"version": 1, "tee": "none", "memory": {"size": "16M"}, "firmware": {"path": "%s"}}\n' "$AMDSEV" >"$T/none.json"
run measure "$T/none.json"
check "tee none policy: exit 1, use cvmkit launch" eval 'rc_is 1 && err_has "tee \"none\" has no launch measurement; use cvmkit launch" && [ ! -s "$T/out" ]'
run measure --firmware "$AMDSEV" --cpu EPYC --vcpus 4097
check "--vcpus above KVM's 4096 is a usage error naming the range" eval 'rc_is 2 && err_has "--vcpus: expected a count 1..4096"'
run measure --firmware "$AMDSEV" --cpu EPYC --vcpus 4094-4097
check "--vcpus range past 4096 is a usage error" eval 'rc_is 2'
run measure --firmware "$AMDSEV" --cpu EPYC --vcpus 1,,2
check "--vcpus with an empty item is a usage error" eval 'rc_is 2 && err_has "not .1,,2."'
run measure --firmware "$AMDSEV" --cpu EPYC --vcpus 767-768 --format hex
check "--vcpus 768 (a two-socket Turin host's threads) is measured in a matrix" eval 'rc_is 0 && [ $(wc -l <"$T/out") -eq 2 ]'
run measure --firmware "$AMDSEV" --cpu EPYC-v4 --vcpus 4096 --format hex
want=$(cat "$T/out")
run measure --firmware "$AMDSEV" --cpu EPYC-v4 --vcpus 4096 --json
check "--vcpus 4096 is accepted; --json is --format json" eval 'rc_is 0 && [ -n "$want" ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"digest\"] == sys.argv[2]" "$T/out" "$want"'
run measure --firmware "$AMDSEV" --cpu EPYC-v4 --vcpus 1,2 --json
check "--json in matrix mode prints JSON lines" eval 'rc_is 0 && [ $(wc -l <"$T/out") -eq 2 ] && head -1 "$T/out" | python3 -c "import json,sys; assert json.load(sys.stdin)[\"vcpus\"] == 1"'
run measure --help
check "measure --help gives --json and the default vCPU count" eval 'rc_is 0 && out_has "^  --json " && out_has "--vcpus N|LIST .*1\.\.4096 (default: the policy.s, else 1)"'
run measure --mode seves --firmware "$AMDSEV" --cpu EPYC --firmware-digest "$OVMF_HASH"
check "--firmware-digest with a legacy mode is a usage error" eval 'rc_is 2'

# ---- measure stays TEE-agnostic: a TDX policy prints the TDX document the same way ------------
if [ -f /usr/share/ovmf/OVMF.fd ]; then
	run measure --tee tdx --firmware /usr/share/ovmf/OVMF.fd --format hex
	check "--tee tdx prints the MRTD through the same output path" eval 'rc_is 0 && [ $(wc -c <"$T/out") -eq 97 ]'
	run measure --tee tdx --firmware /usr/share/ovmf/OVMF.fd --vcpus 1-4
	check "matrix mode is refused for TDX" eval 'rc_is 2'
else
	skip "TDX through measure" "/usr/share/ovmf/OVMF.fd missing"
fi

# ---- an ID block puts the key digests the report will carry into the document ------------------
if command -v openssl >/dev/null && [ -f /usr/share/OVMF/OVMF_CODE.fd ]; then
	openssl ecparam -name secp384r1 -genkey -noout -out "$T/id.pem" 2>/dev/null
	cat >"$T/id-policy.json" <<'JSON'
{"version": 1, "tee": "snp", "cpus": {"count": 2, "model": "EPYC-Milan"},
 "firmware": {"path": "/usr/share/OVMF/OVMF_CODE.fd"},
 "snp": {"id_block": {"family_id": "00000000000000000000000000000001",
                      "image_id": "00000000000000000000000000000002", "guest_svn": 3,
                      "id_key": "id.pem"}}}
JSON
	run id-block "$T/id-policy.json" --json
	want=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id_key_digest"]["hex"])' <"$T/out")
	run measure "$T/id-policy.json"
	got=$(python3 -c 'import json,sys; r=json.load(sys.stdin)["report"]; print(r["id_key_digest"], "author_key_digest" in r)' <"$T/out")
	check "the document expects the ID key digest that id-block reports" eval '[ "$got" = "$want False" ]'
else
	skip "ID key digest in the document" "openssl or OVMF_CODE.fd missing"
fi

# ---- overrides go through the one policy validator (issue 12) ----------------------------------
run measure --firmware "$AMDSEV" --cpu EPYC --guest-features 0x20 --format hex
check "--guest-features without SNPActive is refused as in a policy" eval 'rc_is 2 && err_has "snp.guest_features: bit 0 (SNPActive) must be set, got 0x20" && [ ! -s "$T/out" ]'
python3 -c "print('a' * 100000, end='')" >"$T/long-cmdline"
printf 'kernel' >"$T/kernel"
run measure --firmware "$AMDSEV" --cpu EPYC --kernel "$T/kernel" --append "$(cat "$T/long-cmdline")" --format hex
check "--append of 100 000 characters is refused as in a policy" eval 'rc_is 2 && err_has "boot.cmdline: expected at most 4095 characters, got 100000"'
cp "$AMDSEV" "$T/copy.fd"
python3 -c "import sys; sys.stdout.buffer.write(bytes(4096))" >"$T/other.fd"
cat "$AMDSEV" >>"$T/other.fd"
pin=$(sha256sum "$AMDSEV" | cut -c1-64)
printf '{"version": 1, "tee": "snp", "cpus": {"model": "EPYC"}, "firmware": {"path": "%s", "sha256": "%s"}}\n' "$AMDSEV" "$pin" >"$T/pinned.json"
run measure "$T/pinned.json" --firmware "$T/copy.fd" --format hex
check "--firmware with a copy of the pinned image measures" eval 'rc_is 0 && [ -s "$T/out" ]'
run measure "$T/pinned.json" --firmware "$T/other.fd" --format hex
check "--firmware keeps the policy's pin: another image is refused" eval 'rc_is 1 && err_has "firmware.sha256: .*other.fd hashes to" && [ ! -s "$T/out" ]'
printf '{"version": 1, "tee": "snp", "cpus": {"model": "EPYC-Milan"}, "firmware": {"path": "%s"}}\n' "$AMDSEV" >"$T/model.json"
run measure "$T/model.json" --vcpu-sig 0x00a00f11 --format hex
check "--vcpu-sig replaces the policy's cpus.model" eval 'rc_is 0 && [ -s "$T/out" ]'

# An empty and an absent command line are measured the same (QEMU passes "" when none is given).
run measure --firmware "$AMDSEV" --cpu EPYC --kernel "$T/kernel" --format hex
absent=$(cat "$T/out")
run measure --firmware "$AMDSEV" --cpu EPYC --kernel "$T/kernel" --append "" --format hex
check "an empty --append measures as no --append" eval 'rc_is 0 && [ -n "$absent" ] && out_is "$absent"'

# SEV features by name: the digests sev-snp-measure 0.0.13 prints with --vcpus 2 --vcpu-type
# EPYC-Milan --ovmf ovmf_AmdSev_suffix.bin --guest-features 0x201 / 0x10001 / 0x10221.
feat() {
	name=$1 want=$2 keys=$3
	printf '{"version": 1, "tee": "snp", "cpus": {"count": 2, "model": "EPYC-Milan"}, "firmware": {"path": "%s"}, "snp": {%s}}\n' "$AMDSEV" "$keys" >"$T/features.json"
	vec "$name" "$want" "$T/features.json"
}
feat "SecureTSC by name (sev-snp-measure 0x201)" \
	f1a457a3da8aa2f5605f41e6ddb0b3044e714457e9d907882a7b8b1ff2b94b977c9f28211a79652f923522801e27441b \
	'"features": ["SecureTSC"], "tsc_khz": 2000000'
feat "SecureAVIC by name (sev-snp-measure 0x10001)" \
	2ba5cf14ea2ade567979908ddb13c01738bf2ff80b74c50258b20ef7bc34d08e2f4097c8cd7623ed94c54d25b26830f8 \
	'"features": ["SecureAVIC"]'
feat "DebugSwap, SecureTSC, SecureAVIC by name (sev-snp-measure 0x10221)" \
	43a9771c759ae2a950e62f7bdac17b25b328109ef4e0ee7e72b5e62eed76205407ef09f0c27ae6af3617705255b377d0 \
	'"features": ["DebugSwap", "SecureTSC", "SecureAVIC"]'
feat "the same bits as guest_features (sev-snp-measure 0x10221)" \
	43a9771c759ae2a950e62f7bdac17b25b328109ef4e0ee7e72b5e62eed76205407ef09f0c27ae6af3617705255b377d0 \
	'"guest_features": "0x10221"'
printf '{"version": 1, "tee": "snp", "firmware": {"path": "%s"}, "snp": {"features": ["DebugSwap"], "guest_features": "0x1"}}\n' "$AMDSEV" >"$T/disagree.json"
run measure "$T/disagree.json" --format hex
check "features and guest_features that disagree are refused" eval 'rc_is 1 && err_has "snp.features: names 0x21 (SNPActive, DebugSwap) but snp.guest_features is 0x1" && [ ! -s "$T/out" ]'
