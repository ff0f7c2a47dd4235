# cvmkit evidence: the guest-side verb's arguments and refusals (the protocol itself is tested
# against a fake kernel in tests/unit/test_tsm.c: no plain folder behaves like configfs).
. tests/cli/lib.sh

run evidence
check "--out is required" eval 'rc_is 2 && err_has "out DIR is required"'
run evidence --out "$T/o" --report-data 123
check "odd --report-data is a usage error" eval 'rc_is 2 && err_has "report-data"'
run evidence --out "$T/o" --privlevel 4
check "--privlevel beyond 3 is a usage error" eval 'rc_is 2 && err_has "privlevel"'
run evidence --help
check "--help lists the files it leaves" eval 'rc_is 0 && out_has "tsm-report.json" && out_has "tdx-evidence.json" && out_has "--tsm-dir"'

run evidence --out "$T/o" --tsm-dir "$T/none"
check "no configfs-tsm: a clear failure" eval 'rc_is 1 && err_has "no configfs-tsm here" && ! test -e "$T/o"'
mkdir "$T/plain"
run evidence --out "$T/o" --tsm-dir "$T/plain" --report-data 00ff
check "a plain folder is no configfs: refused, entry removed" \
	eval 'rc_is 1 && err_has "not a configfs-tsm report entry" && [ -z "$(ls "$T/plain")" ]'
