# cvmkit host: the KVM capability report.
. tests/cli/lib.sh

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "host prints the KVM capabilities" "/dev/kvm is not available"
	skip "host --json is valid JSON" "/dev/kvm is not available"
	skip "host names the SEV features or why it cannot read them" "/dev/kvm is not available"
else
	run host
	check "host prints the KVM capabilities" eval 'rc_is 0 && out_has "^KVM API version: *12" && out_has "^VM types:" && out_has "^guest_memfd:"'
	run host --json
	check "host --json is valid JSON with vm_types" eval 'rc_is 0 && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert \"default\" in d[\"vm_types\"]; assert d[\"api_version\"] == 12" "$T/out"'
	# A host with SEV lists names (and their mask); one without says why, as this one does.
	check "host names the SEV features or why it cannot read them" eval 'rc_is 0 && python3 -c "
import json, sys
f = json.load(open(sys.argv[1]))[\"sev_vmsa_features\"]
if f[\"readable\"]:
    assert f[\"mask\"].startswith(\"0x\") and isinstance(f[\"names\"], list)
else:
    assert \"KVM_GET_DEVICE_ATTR(KVM_X86_GRP_SEV, KVM_X86_SEV_VMSA_FEATURES)\" in f[\"error\"]
" "$T/out"'
	run host
	check "host text has the SEV VMSA features line" eval 'rc_is 0 && out_has "^SEV VMSA features:    " && { [ -e /dev/sev ] || out_has "cannot be read: .*ENXIO (this host.s KVM has no SEV support)"; }'
fi
run host extra
check "host rejects arguments with status 2" eval 'rc_is 2 && [ $(wc -l <"$T/err") -eq 1 ]'
