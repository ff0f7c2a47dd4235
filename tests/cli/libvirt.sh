# cvmkit libvirt: caps, xml (validated against libvirt's schema) and define on the test driver.
. tests/cli/lib.sh

URI=test:///default
RNG=$SHARED/vectors/libvirt/domain.rng
FW=/usr/share/ovmf/OVMF.fd
# An AmdSev build (a kernel-hashes section): SNP direct boot is measurable with it.
AMDSEV=$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin

cat >"$T/snp.json" <<P
{"version": 1, "name": "web-frontend", "tee": "snp", "vmm": "qemu",
 "cpus": {"count": 4, "model": "EPYC-Milan"}, "memory": {"size": "2G"},
 "firmware": {"path": "$AMDSEV"},
 "boot": {"kernel": "/var/lib/libvirt/boot/vmlinuz", "initrd": "/var/lib/libvirt/boot/initrd.img",
          "cmdline": "console=ttyS0 root=/dev/vda & quiet"},
 "snp": {"policy": {"smt": true}, "guest_features": "0x21",
         "host_data": "0101010101010101010101010101010101010101010101010101010101010101"}}
P
cat >"$T/tdx.json" <<'P'
{"version": 1, "name": "td-guest", "tee": "tdx", "vmm": "qemu", "cpus": {"count": 2},
 "memory": {"size": "2G"}, "firmware": {"path": "/usr/share/ovmf/OVMF.fd"},
 "tdx": {"attributes": {"sept_ve_disable": true}, "xfam": "0xe7",
         "mrconfigid": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"}}
P
cat >"$T/none.json" <<'P'
{"version": 1, "name": "plain-vm", "tee": "none", "cpus": {"count": 1}, "memory": {"size": "256M"},
 "firmware": {"path": "/usr/share/ovmf/OVMF.fd"}}
P

# validate NAME FILE: libvirt's current schema, and Debian's libvirt 9.0 without <launchSecurity>
validate() {
	if command -v xmllint >/dev/null 2>&1 && [ -f "$RNG" ]; then
		xmllint --noout --relaxng "$RNG" "$2" >"$T/val" 2>&1
		st=$?
		check "$1 validates against libvirt's domain.rng" eval '[ $st -eq 0 ] || { sed "s/^/# /" "$T/val"; false; }'
	else
		skip "$1 validates against libvirt's domain.rng" "xmllint or $RNG missing"
	fi
	if command -v virt-xml-validate >/dev/null 2>&1; then
		sed '/<launchSecurity/,/<\/launchSecurity>/d' "$2" >"$T/nols.xml"
		virt-xml-validate "$T/nols.xml" domain >"$T/val" 2>&1
		st=$?
		check "$1 without launchSecurity passes virt-xml-validate" eval '[ $st -eq 0 ] || { sed "s/^/# /" "$T/val"; false; }'
	else
		skip "$1 without launchSecurity passes virt-xml-validate" "virt-xml-validate missing"
	fi
}

run libvirt xml "$T/snp.json"
check "xml snp exits 0" rc_is 0
check "xml snp has sev-snp launch security with kernel hashes" out_has "<launchSecurity type='sev-snp' kernelHashes='yes'"
check "xml snp carries policy and host data" eval 'out_has "<policy>0x0000000000030000</policy>" && out_has "<hostData>AQEBAQEB"'
check "xml snp escapes the command line" out_has "root=/dev/vda &amp; quiet"
check "xml snp notes guest features on stderr" err_has "note: snp.guest_features 0x21"
cp "$T/out" "$T/snp.xml"
validate "snp xml" "$T/snp.xml"

run libvirt xml "$T/tdx.json"
check "xml tdx exits 0" rc_is 0
check "xml tdx carries attributes and MRCONFIGID" eval 'out_has "<launchSecurity type=.tdx.>" && out_has "<policy>0x0000000010000000</policy>" && out_has "<mrConfigId>AAECAwQF"'
check "xml tdx names the quote generation service (libvirt's default socket)" out_has "^    <quoteGenerationService/>$"
cp "$T/out" "$T/tdx.xml"
validate "tdx xml" "$T/tdx.xml"
run libvirt xml "$T/tdx.json" --qgs /run/tdx-qgs/qgs.socket
check "xml --qgs puts the socket path in <quoteGenerationService>" out_has "<quoteGenerationService path='/run/tdx-qgs/qgs.socket'/>"
cp "$T/out" "$T/tdx-qgs.xml"
validate "tdx xml with a QGS socket" "$T/tdx-qgs.xml"
run libvirt xml "$T/tdx.json" --qgs qgs.socket
check "xml --qgs with a relative path is a usage error" eval 'rc_is 2 && err_has "absolute path"'
run libvirt xml "$T/tdx.json" # the checks below read its notes

check "xml tdx always notes that XFAM follows the host CPU (even 0xe7)" eval 'err_has "note: tdx.xfam 0xe7: libvirt does not set XFAM; the TD.s XFAM follows the host CPU model" && err_has "verify --expect. compares XFAM"'
check "xml tdx keeps host-passthrough" out_has "<cpu mode='host-passthrough'/>"

# The checks of cvmkit measure run first: what measure refuses gets no XML.
sed "s|$AMDSEV|$FW|" "$T/snp.json" >"$T/snp-debian.json"
run measure "$T/snp-debian.json"
measure_err=$(cat "$T/err")
run libvirt xml "$T/snp-debian.json"
check "xml refuses a direct boot with an OVMF without kernel hashes, as measure does" eval \
	'rc_is 1 && err_has "no SNP_KERNEL_HASHES section" && [ ! -s "$T/out" ] && echo "$measure_err" | grep -q "no SNP_KERNEL_HASHES section"'
printf '{"version": 1, "tee": "snp", "cpus": {"model": "EPYC"}, "firmware": {"path": "%s", "sha256": "%064d"}}\n' "$AMDSEV" 0 >"$T/snp-pin.json"
run libvirt xml "$T/snp-pin.json"
check "xml refuses firmware that does not match the policy's pin" eval 'rc_is 1 && err_has "firmware.sha256: .* hashes to" && [ ! -s "$T/out" ]'
if [ -r /usr/share/OVMF/OVMF_CODE_4M.fd ]; then
	printf '{"version": 1, "tee": "tdx", "firmware": {"path": "/usr/share/OVMF/OVMF_CODE_4M.fd"}}\n' >"$T/tdx-nometa.json"
	run libvirt xml "$T/tdx-nometa.json"
	check "xml refuses TDX with a firmware without TDVF metadata" eval 'rc_is 1 && err_has "no TDX metadata" && [ ! -s "$T/out" ]'
else
	skip "xml refuses TDX with a firmware without TDVF metadata" "Debian's OVMF_CODE_4M.fd is missing"
fi

# Paths are absolute (libvirt resolves nothing against the policy's folder).
mkdir -p "$T/rel"
cp "$AMDSEV" "$T/rel/fw.fd"
printf 'k' >"$T/rel/vmlinuz"
printf '{"version": 1, "name": "rel", "tee": "snp", "cpus": {"model": "EPYC-Milan"}, "firmware": {"path": "fw.fd"}, "boot": {"kernel": "vmlinuz", "initrd": "./vmlinuz"}}\n' >"$T/rel/vm.json"
(cd "$T" && "$CVMKIT" libvirt xml rel/vm.json >"$T/out" 2>"$T/err")
RC=$?
check "xml writes absolute firmware, kernel and initrd paths" eval \
	'rc_is 0 && out_has "<loader type=.rom. readonly=.yes.>$T/rel/fw.fd</loader>" && out_has "<kernel>$T/rel/vmlinuz</kernel>" && out_has "<initrd>$T/rel/vmlinuz</initrd>"'
cp "$T/out" "$T/rel.xml"
validate "xml from a relative policy" "$T/rel.xml"

run libvirt xml "$T/tdx.json" --type xen
check "xml --type xen is a usage error listing the accepted types" eval 'rc_is 2 && err_has "unsupported domain type .xen. (expected kvm or qemu)" && [ ! -s "$T/out" ]'
run libvirt xml "$T/tdx.json" --type qemu
check "xml --type qemu is accepted" eval 'rc_is 0 && out_has "<domain type=.qemu.>"'
run libvirt xml "$T/tdx.json" --type kvm
check "xml --type kvm is accepted" eval 'rc_is 0 && out_has "<domain type=.kvm.>"'

sed 's/"0x21"/"0x1"/' "$T/snp.json" >"$T/snp-default-features.json"
run libvirt xml "$T/snp-default-features.json"
check "xml snp with guest_features 0x1 (QEMU's default) has no guest_features note" eval 'rc_is 0 && ! err_has "guest_features"'

run libvirt xml "$T/none.json" -o "$T/none.xml"
check "xml -o writes the file" eval 'rc_is 0 && grep -q "<name>plain-vm</name>" "$T/none.xml" && [ ! -s "$T/out" ]'
validate "plain xml" "$T/none.xml"
check "plain xml description does not claim a cvmkit measure digest" eval 'grep -q "<description>cvmkit .*: plain KVM VM (tee none), no launch measurement</description>" "$T/none.xml" && ! grep -q "cvmkit measure" "$T/none.xml"'
check "snp xml description names cvmkit measure" grep -q "measures as .cvmkit measure. (qemu profile)" "$T/snp.xml"

run libvirt xml "$T/snp.json" --json
check "xml --json gives xml and notes" eval 'rc_is 0 && out_has "\"xml\": \"<domain" && out_has "\"notes\": \[" && out_has "guest_features"'

run --quiet libvirt xml "$T/snp.json"
check "--quiet drops the notes" eval 'rc_is 0 && [ ! -s "$T/err" ]'

if [ -f "$RNG" ] && command -v xmllint >/dev/null 2>&1; then
	for bad in "$SHARED"/vectors/libvirt/examples/bad-*.xml; do
		xmllint --noout --relaxng "$RNG" "$bad" >/dev/null 2>&1
		st=$?
		check "the schema check rejects $(basename "$bad")" eval '[ $st -ne 0 ]'
	done
fi

# ID block: its first 48 bytes are the digest `cvmkit measure` computes.
if command -v openssl >/dev/null 2>&1 && [ -f "$FW" ]; then
	openssl ecparam -name secp384r1 -genkey -noout -out "$T/id.pem" 2>/dev/null
	cat >"$T/snpid.json" <<'P'
{"version": 1, "name": "snp-id", "tee": "snp", "vmm": "qemu",
 "cpus": {"count": 2, "model": "EPYC-Milan"}, "memory": {"size": "2G"},
 "firmware": {"path": "/usr/share/ovmf/OVMF.fd"},
 "snp": {"policy": {"smt": true},
         "id_block": {"family_id": "00112233445566778899aabbccddeeff", "image_id": "ffeeddccbbaa99887766554433221100",
                      "guest_svn": 1, "id_key": "id.pem"}}}
P
	run libvirt xml "$T/snpid.json"
	cp "$T/out" "$T/snpid.xml"
	check "xml with ID block has idBlock and idAuth" eval 'rc_is 0 && out_has "<idBlock>" && out_has "<idAuth>" && out_has "authorKey=.no."'
	validate "snp xml with ID block" "$T/snpid.xml"
	sed -n 's:.*<idBlock>\(.*\)</idBlock>.*:\1:p' "$T/snpid.xml" | base64 -d 2>/dev/null | head -c 48 | od -An -tx1 | tr -d ' \n' >"$T/ld"
	run measure "$T/snpid.json" --format hex
	check "ID block signs the digest of cvmkit measure" eval 'rc_is 0 && [ "$(cat "$T/ld")" = "$(tr -d "\n" <"$T/out")" ]'
else
	skip "xml with ID block" "openssl or $FW missing"
fi

run libvirt xml "$T/missing.json"
check "xml with a missing policy exits 1" rc_is 1
echo '[1]' >"$T/array.json"
run libvirt xml "$T/array.json"
check "xml names a problem without a key path cleanly" eval 'rc_is 1 && err_has "array.json: not a policy" && ! err_has ": :"'
run libvirt xml
check "xml without a policy is a usage error" eval 'rc_is 2 && err_has "expected POLICY"'
run libvirt frob
check "unknown subcommand is a usage error" rc_is 2
run libvirt
check "a missing subcommand is a one-line usage error" eval 'rc_is 2 && err_has "missing subcommand" && [ $(wc -l <"$T/err") -eq 1 ]'
run libvirt xml "$T/none.json" -o "$T/both.xml" --json
check "xml refuses -o together with --json" eval 'rc_is 2 && err_has "not both" && [ ! -e "$T/both.xml" ]'
run libvirt xml --help
check "xml --help" eval 'rc_is 0 && out_has "usage: cvmkit libvirt xml"'

# caps against the test driver (it has no domain capabilities in libvirt 9.0)
run libvirt caps "$URI"
check "caps on the test driver exits 0" eval 'rc_is 0 && out_has "^uri: *test:///default"'
run libvirt caps "$URI" --json
check "caps --json names the URI and each TEE" eval 'rc_is 0 && out_has "\"uri\": \"test:///default\"" && out_has "\"sev_snp\"" && out_has "\"tdx\""'
if out_has '"domain_capabilities": false'; then
	check "caps --json without domain capabilities reports support as null (unknown)" eval '[ "$(tr -d " \n" <"$T/out" | grep -o "\"supported\":null" | wc -l)" -eq 4 ] && ! out_has "\"supported\": false"'
else
	skip "caps --json without domain capabilities reports support as null" "this test driver reports domain capabilities"
fi
cat >"$T/domcaps.xml" <<'X'
<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path>
  <domain>kvm</domain>
  <machine>pc-q35-9.1</machine>
  <arch>x86_64</arch>
  <features>
    <sev supported='yes'>
      <cbitpos>51</cbitpos>
      <reducedPhysBits>1</reducedPhysBits>
      <maxGuests>509</maxGuests>
      <maxESGuests>0</maxESGuests>
    </sev>
    <launchSecurity supported='yes'>
      <enum name='sectype'>
        <value>sev</value>
        <value>sev-snp</value>
      </enum>
    </launchSecurity>
  </features>
</domainCapabilities>
X
run libvirt caps --domcaps "$T/domcaps.xml" --json
check "caps --domcaps reads SNP support and cbitpos" eval 'rc_is 0 && out_has "\"cbitpos\": 51" && out_has "\"max_guests\": 509" && tr -d " \n" <"$T/out" | grep -q "\"sev_snp\":{\"supported\":true}"'
run libvirt caps --domcaps "$T/domcaps.xml"
check "caps text shows SEV-ES off and SNP on" eval 'rc_is 0 && out_has "^SEV-ES: *no" && out_has "^SEV-SNP: *yes"'
run libvirt caps nosuchdriver:///x
check "caps with a bad URI exits 1" eval 'rc_is 1 && err_has "cannot connect"'

# define through the API
run libvirt define "$T/none.json" "$URI"
check "define a plain VM on the test driver" eval 'rc_is 0 && out_has "defined domain plain-vm (uuid [0-9a-f-]*)"'
run libvirt define "$T/none.json" "$URI" --name other --json
check "define --json reports name and uuid" eval 'rc_is 0 && out_has "\"name\": \"other\"" && out_has "\"uuid\": \""'
run libvirt define "$T/snp.json" "$URI"
check "define snp on libvirt < 10.5 names the version it needs" eval 'rc_is 1 && err_has "needs >= 10.5.0"'
run libvirt define "$T/tdx.json" "$URI"
check "define tdx on libvirt < 11.6 names the version it needs" eval 'rc_is 1 && err_has "needs >= 11.6.0 with QEMU >= 10.1"'

# Only the libvirt verb loads libvirt: cvmkit itself does not link it (cvmkit-libvirt does).
LD_DEBUG=libs "$CVMKIT" measure examples/snp-qemu.json --format hex >"$T/out" 2>"$T/err"
RC=$?
check "measure loads no libvirt object" eval 'rc_is 0 && grep -q "calling init" "$T/err" && ! grep -q "libvirt" "$T/err"'
LD_DEBUG=libs "$CVMKIT" libvirt caps "$URI" >"$T/out" 2>"$T/err"
RC=$?
check "while the libvirt verb loads libvirt and works" eval 'rc_is 0 && grep -q "calling init.*libvirt\.so" "$T/err" && out_has "SEV-SNP"'
CVMKIT_LIBEXECDIR="$T/nowhere" "$CVMKIT" libvirt caps "$URI" >"$T/out" 2>"$T/err"
RC=$?
check "a missing libvirt program is a clear failure" eval 'rc_is 1 && err_has "no cvmkit-libvirt in CVMKIT_LIBEXECDIR"'
