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
run --quiet --verbose host
check "--quiet with --verbose is a usage error" eval 'rc_is 2 && err_has "give --quiet or --verbose, not both" && [ $(wc -l <"$T/err") -eq 1 ] && [ ! -s "$T/out" ]'
run -v -q measure
check "-v with -q is a usage error" eval 'rc_is 2 && err_has "give --quiet or --verbose, not both"'
for verb in inspect policy measure id-block launch host verify libvirt; do
	run "$verb" --help
	check "$verb --help exits 0" eval 'rc_is 0 && out_has "usage: cvmkit '"$verb"'"'
	run "$verb" --no-such-option
	check "$verb rejects unknown options with status 2" eval 'rc_is 2'
done

# ---- bash completion offers measure --json ----------------------------------------------------
bash -c '. "$1"; COMP_WORDS=(cvmkit measure p.json --js); COMP_CWORD=3; _cvmkit; echo "${COMPREPLY[*]}"' \
	_ docs/cvmkit.bash-completion >"$T/out" 2>"$T/err"
RC=$?
check "bash completion offers measure --json" eval 'rc_is 0 && out_is "--json"'
