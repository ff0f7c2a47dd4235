# cvmkit launch: the default VM on this host's KVM, dry runs, refusals, and no output on failure.
. tests/cli/lib.sh

run launch
check "launch without a policy exits 2" eval 'rc_is 2 && err_has "missing POLICY"'
run launch examples/default-vm.json --format nope
check "launch rejects an unknown format" eval 'rc_is 2'
run launch examples/default-vm.json --timeout -1
check "launch rejects a bad timeout" eval 'rc_is 2'

run launch examples/default-vm.json --dry-run
check "dry run prints every op with GPA, size and flags" eval 'rc_is 0 && out_has "^plan: tee none" && out_has "load  firmware *gpa 0x0fffff000 size 0x00001000" && out_has "vcpu 0 rip 0xfff0"'

# ---- --dry-run prints the plan only; options of a real launch are refused ---------------------
for opt in "--out $T/dry-out.json" "--run" "--timeout 5" "--format hex"; do
	run launch examples/default-vm.json --dry-run $opt
	check "--dry-run with ${opt%% *} is a usage error naming it" eval 'rc_is 2 && err_has "^cvmkit launch: --dry-run prints the plan; it does not take ${opt%% *}" && [ ! -s "$T/out" ] && [ ! -e "$T/dry-out.json" ]'
done
run launch examples/default-vm.json -o "$T/dry-out.json" -n
check "-o with -n is refused too" eval 'rc_is 2 && err_has "does not take --out"'

# ---- CoRIM and RVPS need a confidential VM: refused before KVM is touched ---------------------
for fmt in corim rvps; do
	run launch examples/default-vm.json --format $fmt --out "$T/none-$fmt"
	check "launch --format $fmt of a tee none policy is a usage error" eval 'rc_is 2 && err_has "format $fmt: a non-confidential VM" && err_has "use json, hex or cbor" && ! err_has "launched" && [ ! -e "$T/none-$fmt" ]'
done

if [ -n "$SHARED" ] && [ -r "$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin" ]; then
	cat >"$T/snp.json" <<EOP
{"version": 1, "name": "snp", "tee": "snp", "vmm": "qemu", "cpus": {"count": 2, "model": "EPYC-Milan"},
 "memory": {"size": "64M"}, "firmware": {"path": "$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin"},
 "snp": {"policy": {"smt": true}}, "prefault": {"mode": "best-effort"}}
EOP
	run launch "$T/snp.json" --dry-run
	check "SNP dry run lists page types" eval 'rc_is 0 && out_has "type NORMAL" && out_has "type SECRETS" && out_has "type CPUID" && out_has "vcpu 1"'
	check "SNP dry run without snp.id_block says id_block no" eval 'out_has "^snp: .*id_block no,"'
	sed 's/"snp": {"policy": {"smt": true}}/"snp": {"policy": {"smt": true}, "id_block": {"id_key": "id.pem"}}/' \
		"$T/snp.json" >"$T/snp-id.json"
	run launch "$T/snp-id.json" --dry-run
	check "SNP dry run with snp.id_block says the launch attaches one" eval 'rc_is 0 && out_has "^snp: .*id_block yes (built from the launch digest at launch), host_data no"'
	check "SNP dry run without SEV features has no features line" eval '! out_has "^snp: SEV features"'
	sed 's/"snp": {"policy": {"smt": true}}/"snp": {"features": ["SecureTSC", "DebugSwap"], "tsc_khz": 2000000, "cpuid_retry": true}/' \
		"$T/snp.json" >"$T/snp-features.json"
	# --threads spreads the firmware's page hashes only: the same plan on every count.
	sed 's|"prefault"|"boot": {"kernel": "/dev/null", "initrd": "/dev/null", "cmdline": ""}, "prefault"|' \
		"$T/snp.json" >"$T/snp-boot.json"
	run launch "$T/snp-boot.json" --dry-run
	cp "$T/out" "$T/dry-default"
	for n in 1 2 3; do
		run launch "$T/snp-boot.json" --dry-run --threads $n
		check "SNP direct-boot dry run on --threads $n prints the default's plan" eval 'rc_is 0 && out_has "type NORMAL" && cmp -s "$T/out" "$T/dry-default"'
	done
	run launch "$T/snp.json" --dry-run --threads 0
	check "launch --threads 0 is a usage error" eval 'rc_is 2 && err_has "--threads: expected a count 1..256"'
	run launch "$T/snp-features.json" --dry-run
	check "SNP dry run names the SEV features, the TSC frequency and the CPUID retry" eval 'rc_is 0 && out_has "^snp: policy 0x30000, vmsa_features 0x220," && out_has "^snp: SEV features DebugSwap, SecureTSC, tsc_khz 2000000, cpuid_retry yes$"'
	if [ -r /dev/kvm ] && ! "$CVMKIT" host --json 2>/dev/null | grep -q '"sev_snp": *true'; then
		run launch "$T/snp.json" --out "$T/snp-out.json"
		check "SNP launch refused on this host with one clear line, no output" eval 'rc_is 1 && [ ! -s "$T/out" ] && grep -qx "cvmkit launch: SEV-SNP VMs are not supported by this host'"'"'s KVM (KVM_CAP_VM_TYPES = 0x[0-9a-f]*)" "$T/err" && [ $(wc -l <"$T/err") -eq 1 ] && [ ! -e "$T/snp-out.json" ]'
	else
		skip "SNP launch refused on this host" "host offers SEV-SNP or has no /dev/kvm"
	fi
else
	skip "SNP dry run lists page types" "SNP vectors not found"
	skip "SNP launch refused on this host" "SNP vectors not found"
fi

if [ -n "$SHARED" ] && [ -r "$SHARED/vectors/tdx/synth_tdvf.bin" ] && [ -r /dev/kvm ] &&
	! "$CVMKIT" host --json 2>/dev/null | grep -q '"tdx": *true'; then
	cat >"$T/tdx.json" <<EOP
{"version": 1, "name": "tdx", "tee": "tdx", "vmm": "qemu", "cpus": {"count": 1},
 "memory": {"size": "64M"}, "firmware": {"path": "$SHARED/vectors/tdx/synth_tdvf.bin"}}
EOP
	run launch "$T/tdx.json" --out "$T/tdx-out.json"
	check "TDX launch refused on this host, no output" eval 'rc_is 1 && err_has "TDX VMs are not supported by this host'"'"'s KVM" && [ ! -e "$T/tdx-out.json" ]'
else
	skip "TDX launch refused on this host" "TDX vectors or /dev/kvm missing, or host offers TDX"
fi

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "default VM launch --run" "/dev/kvm is not available"
	skip "default VM guest checksum" "/dev/kvm is not available"
	skip "prefault required fails without output" "/dev/kvm is not available"
else
	run launch examples/default-vm.json --run --out "$T/doc.json"
	check "default VM launch --run halts and writes the document" eval 'rc_is 0 && err_has "stopped (hlt)" && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); l=d[\"launch\"]; assert l[\"vm_type\"]==\"default\" and l[\"run_stop\"]==\"hlt\" and l[\"loaded_bytes\"]==4096 and \"prefault\" in l and len(d[\"digest\"])==96" "$T/doc.json"'
	# The guest reports the byte sum of its image read from guest memory.
	sum=$(od -An -v -tu1 examples/guest.bin | awk '{for(i=1;i<=NF;i++)s+=$i} END{printf "0x%x", s}')
	check "default VM guest checksum equals the host's ($sum)" eval 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert int(d[\"launch\"][\"run_last_io\"],16)==int(sys.argv[2],16)" "$T/doc.json" "$sum"'
	sed 's/"best-effort"/"required"/' examples/default-vm.json >"$T/req.json"
	cp examples/guest.bin "$T/guest.bin"
	if "$CVMKIT" host --json | grep -q '"pre_fault_memory": *false'; then
		run launch "$T/req.json" --out "$T/req-out.json"
		check "prefault required fails without output on a host without pre-fault" eval 'rc_is 1 && err_has "KVM_PRE_FAULT_MEMORY.*EOPNOTSUPP" && [ ! -e "$T/req-out.json" ]'
	else
		skip "prefault required fails without output" "this host supports pre-fault"
	fi
	# A guest that spins at the reset vector (jmp $): --timeout stops it, SIGINT cancels it.
	{ head -c 4080 /dev/zero; printf '\353\376'; head -c 14 /dev/zero; } >"$T/spin.bin"
	sed 's/"guest.bin"/"spin.bin"/' examples/default-vm.json >"$T/spin.json"
	run launch "$T/spin.json" --run --timeout 0.3 --out "$T/spin-out.json"
	check "--timeout stops a spinning guest, records it and exits 4 (timed out)" eval 'rc_is 4 && err_has "stopped (timeout)" && err_has "did not halt within --timeout" && grep -q "\"run_stop\": *\"timeout\"" "$T/spin-out.json"'
	"$CVMKIT" launch "$T/spin.json" --run --timeout 60 --out "$T/int-out.json" >"$T/out" 2>"$T/err" &
	pid=$!
	sleep 1
	kill -INT $pid
	wait $pid
	RC=$?
	check "SIGINT cancels a running launch: exit 5 (cancelled), no output" eval 'rc_is 5 && err_has "cancelled" && [ ! -e "$T/int-out.json" ]'
	"$CVMKIT" launch "$T/spin.json" --run --timeout 60 --out "$T/term-out.json" >"$T/out" 2>"$T/err" &
	pid=$!
	sleep 1
	kill -TERM $pid
	wait $pid
	RC=$?
	check "SIGTERM cancels a running launch: exit 5 too, no output" eval 'rc_is 5 && err_has "cancelled" && [ ! -e "$T/term-out.json" ]'
	run launch examples/default-vm.json --format hex
	check "launch --format hex prints the digest alone" eval 'rc_is 0 && [ $(wc -c <"$T/out") -eq 97 ]'
	cp "$T/out" "$T/hex-default"
	for n in 1 2 3; do
		run launch examples/default-vm.json --format hex --threads $n
		check "launch --threads $n gives the default's digest" eval 'rc_is 0 && cmp -s "$T/out" "$T/hex-default"'
	done
	# The image's SHA-256 is taken beside the VM's creation: a pin mismatch is found once the
	# image is loaded, and the VM is torn down before any vCPU runs.
	sed 's|"firmware": {"path": "guest.bin"}|"firmware": {"path": "guest.bin", "sha256": "'"$(printf '0%.0s' $(seq 64))"'"}|' \
		examples/default-vm.json >"$T/pinned.json"
	cp examples/guest.bin "$T/guest.bin"
	run launch "$T/pinned.json" --run --out "$T/pinned-out.json"
	check "a default VM whose image misses its pin is torn down unrun, no output" eval 'rc_is 1 && err_has "firmware.sha256: .*guest.bin hashes to [0-9a-f]*, the policy pins 0000" && err_has "the VM is torn down, no vCPU ran" && ! err_has "guest:" && [ ! -e "$T/pinned-out.json" ]'
fi

printf '{"version": 1, "name": "x", "tee": "none", "memory": {"size": "16M"}, "firmware": {"path": "nope.bin"}}\n' >"$T/missing.json"
run launch "$T/missing.json" --out "$T/missing-out.json"
check "missing firmware fails with exit 1 and no output" eval 'rc_is 1 && err_has "nope.bin" && [ ! -e "$T/missing-out.json" ]'

# ---- a broken policy: every problem on its own line, nothing launched -------------------------
cat >"$T/broken.json" <<'JSON'
{"version": 1, "tee": "none", "memory": {"size": "3000"}, "cpus": {"count": 0}}
JSON
run launch "$T/broken.json"
check "launch lists every policy problem" eval 'rc_is 1 && err_has "memory.size" && err_has "cpus.count" && [ $(wc -l <"$T/err") -ge 2 ]'

# ---- --verbose adds the plan and the phase timings on stderr; --quiet says nothing -------------
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	run --verbose launch examples/default-vm.json
	check "--verbose launch prints the plan and timings on stderr" eval 'rc_is 0 && err_has "^plan: tee none" && err_has "^timings (ms): plan" && out_has "\"digest\""'
	run --quiet launch examples/default-vm.json --run
	check "--quiet launch --run writes only the document" eval 'rc_is 0 && [ ! -s "$T/err" ] && out_has "\"run_stop\": \"hlt\""'
else
	skip "--verbose and --quiet launch" "no usable /dev/kvm"
fi

run launch --help
check "launch --help documents the timeout and cancel statuses" eval 'rc_is 0 && out_has "4 --run reached" && out_has "5 cancelled by SIGINT or SIGTERM"'
