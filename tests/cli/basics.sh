# CLI basics: help, version, usage errors and exit codes.
. tests/cli/lib.sh

run --help
check "--help exits 0 and lists verbs" eval 'rc_is 0 && out_has "^  measure "'
run --version
check "--version prints the version" eval 'rc_is 0 && out_has "^cvmkit [0-9]"'
run frobnicate
check "unknown verb exits 2 with one line" eval 'rc_is 2 && err_has "unknown verb .frobnicate." && [ $(wc -l <"$T/err") -eq 1 ]'
run --bogus
check "unknown global option exits 2" eval 'rc_is 2 && err_has "unknown option"'
run
check "no verb prints usage and exits 2" eval 'rc_is 2 && err_has "^usage:"'
for verb in inspect policy measure id-block launch host verify libvirt; do
	run "$verb" --help
	check "$verb --help exits 0" eval 'rc_is 0 && out_has "usage: cvmkit '"$verb"'"'
	run "$verb" --no-such-option
	check "$verb rejects unknown options with status 2" eval 'rc_is 2'
done
