# Output safety (docs/limits.md): every verb checks its writes to standard output, and every
# file writer (measure --out, launch -o, libvirt xml -o, policy convert) replaces only regular
# files (keeping mode and owner), follows symbolic links, writes through FIFOs and character
# devices and refuses the rest.  The FIFOs and device nodes are made in the test's own folder.
. tests/cli/lib.sh

FW=$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin
if [ ! -r "$FW" ]; then
	skip "output safety" "the SNP firmware vector is missing under $SHARED"
	exit 0
fi
cat >"$T/snp.json" <<EOF
{"version": 1, "name": "out", "tee": "snp", "cpus": {"count": 2, "model": "EPYC-Milan"}, "memory": {"size": "64M"},
 "firmware": {"path": "$FW"}}
EOF
printf 'read-only\n' >"$T/ro"

# ---- standard output ---------------------------------------------------------------------------
# A descriptor opened read-only as standard output makes every write fail (EBADF): it stands for
# a full disk or a vanished reader, without touching /dev.
ro_stdout() { # NAME ARGS...: the verb's output cannot be written -> exit 1 and a message
	name=$1
	shift
	"$CVMKIT" "$@" 1<"$T/ro" 2>"$T/err"
	RC=$?
	check "$name: a write error on standard output exits 1 with a message" eval \
		'rc_is 1 && err_has "error writing standard output\|standard output: Bad file descriptor"'
}
ro_stdout "inspect" inspect "$FW"
ro_stdout "inspect --json" inspect --json "$FW"
ro_stdout "policy check" policy check "$T/snp.json"
ro_stdout "policy check --json" policy check --json "$T/snp.json"
ro_stdout "policy convert to -" policy convert "$T/snp.json" - --to json
ro_stdout "measure" measure "$T/snp.json"
ro_stdout "measure matrix" measure "$T/snp.json" --vcpus 1-3
ro_stdout "launch --dry-run" launch "$T/snp.json" --dry-run
ro_stdout "host" host
ro_stdout "host --json" host --json
ro_stdout "libvirt xml" libvirt xml "$T/snp.json"
ro_stdout "--version" --version
ro_stdout "--help" --help
if [ -r "$SHARED/vectors/attest/confidential-containers-trustee/snp/test-report.bin" ]; then
	TR=$SHARED/vectors/attest/confidential-containers-trustee
	ro_stdout "verify" verify "$TR/snp/test-report.bin" --certs "$TR/snp/test-vcek.der" \
		--at 2025-06-01T00:00:00Z
	ro_stdout "eventlog show" eventlog show "$SHARED/vectors/eventlog/confidential-containers-trustee/CCEL_data_ovmf"
else
	skip "verify: a write error on standard output exits 1" "attestation vectors missing"
fi

# A pipe whose reader has gone, with SIGPIPE ignored as a supervisor may leave it: EPIPE.
python3 - "$CVMKIT" "$FW" "$T/err" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
with open(sys.argv[3], "w") as err:
    rc = subprocess.call([sys.argv[1], "inspect", sys.argv[2]], stdout=w, stderr=err,
                         restore_signals=False)  # keeps SIGPIPE ignored, as Python sets it
sys.exit(0)
PY
RC=$?
check "EPIPE on standard output (reader gone, SIGPIPE ignored) exits 1 with a message" \
	eval 'err_has "inspect: error writing standard output: Broken pipe"'

# ---- files ---------------------------------------------------------------------------------------
# writers NAME: each "WRITER" is a command line whose output goes to $DEST.
writer() { # NAME ARGS... with @DEST@ where the output path goes
	wname=$1
	shift
	set -- $(printf '%s\n' "$@" | sed "s|@DEST@|$DEST|")
	run "$@"
}
for w in measure launch libvirt convert; do
	case $w in
	measure) cmd="measure $T/snp.json --out @DEST@" ;;
	launch)
		if [ ! -w /dev/kvm ]; then
			skip "launch -o output safety" "/dev/kvm is not available"
			continue
		fi
		cmd="launch examples/default-vm.json -o @DEST@" ;;
	libvirt) cmd="libvirt xml $T/snp.json -o @DEST@" ;;
	convert) cmd="policy convert $T/snp.json @DEST@ --to json" ;;
	esac
	d=$T/$w
	mkdir -p "$d"

	DEST=$d/file
	printf 'old\n' >"$DEST"
	chmod 0600 "$DEST"
	writer "$w" $cmd
	check "$w: replacing a 0600 file keeps its mode" eval \
		'rc_is 0 && [ "$(stat -c %a "$DEST")" = 600 ] && ! grep -q "^old" "$DEST"'
	if [ "$(id -u)" = 0 ]; then
		chown 4321:4322 "$DEST"
		writer "$w" $cmd
		check "$w: replacing a file keeps its owner" eval \
			'rc_is 0 && [ "$(stat -c %u:%g "$DEST")" = 4321:4322 ]'
	else
		skip "$w: replacing a file keeps its owner" "chown to another user needs root"
	fi

	ln -s file "$d/link"
	DEST=$d/link
	writer "$w" $cmd
	check "$w: a symbolic link is followed and stays a link" eval \
		'rc_is 0 && [ -L "$d/link" ] && [ -s "$d/file" ]'
	ln -s missing/file "$d/dangling"
	DEST=$d/dangling
	writer "$w" $cmd
	check "$w: a dangling symbolic link is refused" eval \
		'rc_is 1 && err_has "symbolic link" && [ -L "$d/dangling" ] && [ ! -e "$d/missing" ]'

	mkfifo "$d/fifo"
	DEST=$d/fifo
	# The reader gives up after a while, so a writer that replaced the FIFO fails the check
	# instead of leaving the reader waiting.
	timeout 20 cat "$d/fifo" >"$d/from-fifo" &
	reader=$!
	writer "$w" $cmd
	[ "$RC" -eq 0 ] || : >"$d/fifo"
	wait $reader
	check "$w: a FIFO is written through, not replaced" eval \
		'rc_is 0 && [ -p "$d/fifo" ] && [ -s "$d/from-fifo" ]'

	if [ "$(id -u)" = 0 ]; then
		mknod "$d/null" c 1 3
		DEST=$d/null
		writer "$w" $cmd
		check "$w: a character device is written through, not replaced" eval \
			'rc_is 0 && [ -c "$d/null" ]'
	else
		skip "$w: a character device is written through" "mknod needs root"
	fi
	DEST=$d
	writer "$w" $cmd
	check "$w: a folder is refused" eval 'rc_is 1 && err_has "a directory"'
done

# ---- untrusted text is escaped ---------------------------------------------------------------------
printf '{"version": 1, "name": "evil\\u001b[31mred\\nline", "tee": "none"}\n' >"$T/evil.json"
run policy check "$T/evil.json"
check "a policy name's escape sequence and newline are shown escaped" eval \
	'rc_is 0 && out_has "evil\\\\x1b\[31mred\\\\nline" && ! grep -q "$(printf "\033")" "$T/out" && [ "$(wc -l <"$T/out")" -eq 1 ]'
cp "$T/evil.json" "$T/$(printf 'bad\033]0;title\007name').json"
run policy check "$T/$(printf 'bad\033]0;title\007name').json" --bogus
check "a file name's control characters are escaped in error messages too" eval \
	'rc_is 2 && ! grep -q "$(printf "\033")" "$T/err"'
printf '{"version": 1, "tee": "none", "firmware": {"path": "fw\\u001b[2J.fd", "sha256": "%064d"}}\n' 0 >"$T/evil-path.json"
cp "$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin" "$T/$(printf 'fw\033[2J.fd')"
run policy check "$T/evil-path.json"
check "a policy path's escape sequence is escaped in the pin problem" eval \
	'rc_is 1 && err_has "fw\\\\x1b\[2J.fd hashes to" && ! grep -q "$(printf "\033")" "$T/err"'
