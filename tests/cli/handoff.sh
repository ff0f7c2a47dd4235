# cvmkit launch --handoff SOCKET: the VM goes to a VMM (tests/handoff/receiver.c) that runs it
# through the anchor on the real /dev/kvm; refusals and a missing receiver fail cleanly.
. tests/cli/lib.sh

RECEIVER=${CVMKIT_BUILD:-build/rel}/handoff-receiver

run launch examples/default-vm.json --run --handoff "$T/sock"
check "--run with --handoff is a usage error" eval 'rc_is 2 && err_has "exclude each other"'
run launch examples/default-vm.json --dry-run --handoff "$T/sock"
check "--dry-run with --handoff is a usage error" eval 'rc_is 2 && err_has "does not take --handoff"'
run launch --help
check "--help says the launch without --handoff is a check" eval 'rc_is 0 && out_has "Without --handoff the launch is a check" && out_has "--handoff SOCKET"'

# receiver_start ARGS...: the receiver listening at $T/sock, its output in $T/recv.
receiver_start() {
	rm -f "$T/sock"
	"$RECEIVER" "$T/sock" "$@" >"$T/recv" 2>&1 &
	RPID=$!
	i=0
	while [ ! -S "$T/sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

if [ ! -x "$RECEIVER" ]; then
	skip "hand-off to the example receiver" "$RECEIVER not built (make unit-tests)"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "hand-off to the example receiver" "no usable /dev/kvm on this host"
else
	run launch examples/default-vm.json --handoff "$T/no-such-sock" --out "$T/none.json"
	check "no receiver: exit 1, one line naming the socket, no document" eval 'rc_is 1 && err_has "hand-off socket .*no-such-sock.*: connect: ENOENT (start the receiver first" && [ ! -e "$T/none.json" ]'

	receiver_start --refuse
	run launch examples/default-vm.json --handoff "$T/sock" --out "$T/refused.json"
	wait $RPID
	check "a refusing receiver: exit 1 with its reason, no document" eval 'rc_is 1 && err_has "the receiver refused the VM: this receiver was told to refuse (EPERM)" && [ ! -e "$T/refused.json" ]'

	receiver_start --doc "$T/handed.json"
	run launch examples/default-vm.json --handoff "$T/sock" --out "$T/launch.json"
	wait $RPID
	RRC=$?
	check "hand-off: the CLI serves until the VMM disconnects, exit 0" eval 'rc_is 0 && err_has "handed off to" && err_has "the VMM disconnected after 2 KVM_RUN requests; VM torn down"'
	check "the receiver adopted the VM: VM, vCPU and two guest_memfds" eval '[ $RRC -eq 0 ] && grep -q "^adopted: vm_type 0, 1 vCPU(s), 2 region(s), 4 descriptors" "$T/recv" && grep -q "^region firmware: gpa 0xfffff000 size 0x1000 slot 1 mappable" "$T/recv"'
	check "the receiver's own KVM ioctls get EIO (the VM belongs to the anchor's mm)" eval 'grep -q "^own KVM_GET_REGS on vCPU 0: Input/output error" "$T/recv"'
	check "the receiver ran the guest through the anchor to HLT and its sum matches the guest_memfd bytes" eval 'grep -q "^guest: out port 0x500 <- 0x7fb33" "$T/recv" && grep -q "^halted after 2 exits" "$T/recv" && grep -q "^guest sum matches the firmware bytes" "$T/recv"'
	check "the document handed over is the one written, naming the hand-off" eval 'cmp -s "$T/handed.json" "$T/launch.json" && grep -q "\"handoff\": \"$T/sock\"" "$T/launch.json" && grep -q "\"digest\"" "$T/launch.json"'
	[ $RRC -eq 0 ] || sed 's/^/# receiver: /' "$T/recv"
fi
