# cvmkit host: the KVM capability report.
. tests/cli/lib.sh

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "host prints the KVM capabilities" "/dev/kvm is not available"
	skip "host --json is valid JSON" "/dev/kvm is not available"
else
	run host
	check "host prints the KVM capabilities" eval 'rc_is 0 && out_has "^KVM API version: *12" && out_has "^VM types:" && out_has "^guest_memfd:"'
	run host --json
	check "host --json is valid JSON with vm_types" eval 'rc_is 0 && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert \"default\" in d[\"vm_types\"]; assert d[\"api_version\"] == 12" "$T/out"'
fi
run host extra
check "host rejects arguments with status 2" eval 'rc_is 2 && [ $(wc -l <"$T/err") -eq 1 ]'
