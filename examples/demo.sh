#!/bin/sh
# make demo: the main job of cvmkit on the bundled examples.
#   1. read the firmware's own metadata (inspect)
#   2. check the example policies
#   3. compute the launch measurements an SNP and a TDX guest will report (measure)
#   4. launch the default-VM example on this host's KVM, run its test guest, emit the document
set -eu
CVMKIT=${1:-build/rel/cvmkit}
OVMF=/usr/share/ovmf/OVMF.fd
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

if [ -t 1 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); else bold= plain=; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }

step cvmkit inspect $OVMF
"$CVMKIT" inspect $OVMF

for p in examples/*.json; do
	step cvmkit policy check "$p"
	"$CVMKIT" policy check "$p"
done

step cvmkit measure examples/snp-qemu.json
"$CVMKIT" measure examples/snp-qemu.json

step cvmkit measure examples/tdx.json --format hex
"$CVMKIT" measure examples/tdx.json --format hex

step cvmkit measure examples/snp-qemu.json --format corim --out "$OUT/snp.corim"
"$CVMKIT" measure examples/snp-qemu.json --format corim --out "$OUT/snp.corim"
echo "wrote $(wc -c <"$OUT/snp.corim") bytes of CoRIM"

step cvmkit host
"$CVMKIT" host

step cvmkit launch examples/default-vm.json --run
"$CVMKIT" launch examples/default-vm.json --run

step cvmkit launch examples/snp-qemu.json "(refused cleanly on a host without SEV-SNP)"
if "$CVMKIT" launch examples/snp-qemu.json; then :; else echo "(exit status $?, as expected here)"; fi
