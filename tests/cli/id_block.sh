# cvmkit id-block: the sev-snp-measure ID-block vector, generated keys, JSON, and the errors.
. tests/cli/lib.sh

# sev-snp-measure tests/keyfile/{id,author}_key_test.pem (public test keys of that project).
cat >"$T/id_vec.pem" <<'PEM'
-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDDd3NjrPduToA3Y2bU8u+m+wL+icE6wZOiAm5FopHJjHx2a67ZcqhcX
mB/DBwn4WsKgBwYFK4EEACKhZANiAASyD9Ghwr0rZRg6duI5CsgF9tjl4q9yXlqO
k8+H7AKfnUXrMmsEuSvrcU4U+phviposlKC4qzDMdjUmdZRIdokelU/271gmpiMb
ptbX9uv7aM4zDh5ZOU77cICIPdxpNks=
-----END EC PRIVATE KEY-----
PEM
cat >"$T/author_vec.pem" <<'PEM'
-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDCUTgpZn6Wt6RvhJHG3PzPIEkyl1x8+0G3gltnqH63ibdpY+Y99M2tr
34JhaKgSdJOgBwYFK4EEACKhZANiAAQGgR/GJAm/LZrlHAdCMlTYk8bCP78WSvM4
Ow+BOmJ+YWjZBnp/S9l5kFiMGEESEKAytCCiJlbScdz9TiVmjHL9WLtfaFH+Ry+d
Fg+ICxTfTDYjBolizeTWCOc3NC2pEsk=
-----END EC PRIVATE KEY-----
PEM

# policy FILE ID_KEY [AUTHOR_KEY] [FIRMWARE]: a minimal SNP policy with an id_block.
policy() {
	author=""
	[ -n "${3:-}" ] && author=", \"author_key\": \"$3\""
	fw=""
	[ -n "${4:-}" ] && fw="\"firmware\": {\"path\": \"$4\"},"
	cat >"$1" <<JSON
{
  "version": 1, "name": "id-block-test", "tee": "snp", "vmm": "qemu",
  "cpus": {"count": 1, "model": "EPYC-v4"}, $fw
  "snp": {"policy": {"smt": true, "abi_major": 0, "abi_minor": 0}, "guest_features": "0x21",
          "id_block": {"id_key": "$2"$author}}
}
JSON
}

VEC_LD=B28FLQi9p6cAqipgjFyqawDrrSl7bWioWkWx5mmlWLZ+G5HShKMB/mPE+gdQRn7t
VEC_BLOCK=B28FLQi9p6cAqipgjFyqawDrrSl7bWioWkWx5mmlWLZ+G5HShKMB/mPE+gdQRn7tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAwAAAAAA
VEC_ID_DIGEST=hwt+NcU/inLQ0yL3WrKvgmJ5Kq9leWIs5BMcPyHyied8sFYKXjuQs5MuZ07HCcsU
VEC_AUTHOR_DIGEST=YxEcNLv8Ckk4+aAJvQdJgNgXIyPmFZnJ/TNtqGcySOHcqY0L6PdjdqEGuK/UwKBX

policy "$T/vec.json" id_vec.pem author_vec.pem
run id-block "$T/vec.json" --measurement "$VEC_LD"
check "id-block reproduces the sev-snp-measure ID block" eval \
	'rc_is 0 && out_has "^id-block=$VEC_BLOCK,id-auth=AQAAAAEAAAA[A-Za-z0-9+/=]*,author-key-enabled=on$"'
check "id-block prints the vector key digests" eval \
	'out_has "^id-key-digest=$VEC_ID_DIGEST$" && out_has "^author-key-digest=$VEC_AUTHOR_DIGEST$" && out_has "^id-key-digest-hex=870b7e35c53f8a72d0d322f75ab2af8262792aaf6579622ce4131c3f21f289e77cb0560a5e3b90b3932e674ec709cb14$"'

HEX_LD=$(printf '%s' "$VEC_LD" | base64 -d | od -An -tx1 | tr -d ' \n')
run id-block "$T/vec.json" --measurement "$HEX_LD" --json
check "id-block --json is valid JSON with the same content" eval \
	'rc_is 0 && python3 -c "
import json, sys, base64
d = json.load(open(sys.argv[1]))
assert d[\"id_block\"] == sys.argv[2], d[\"id_block\"]
assert d[\"id_key_digest\"][\"base64\"] == sys.argv[3]
assert d[\"author_key_digest\"][\"base64\"] == sys.argv[4] and d[\"author_key_enabled\"] is True
assert len(base64.b64decode(d[\"id_auth\"])) == 4096
assert d[\"qemu\"].startswith(\"id-block=\" + sys.argv[2] + \",id-auth=\")
assert d[\"policy\"] == \"0x30000\" and d[\"guest_svn\"] == 0
" "$T/out" "$VEC_BLOCK" "$VEC_ID_DIGEST" "$VEC_AUTHOR_DIGEST"'

if command -v openssl >/dev/null 2>&1; then
	openssl ecparam -name secp384r1 -genkey -noout -out "$T/id.pem" 2>/dev/null
	openssl ecparam -name prime256v1 -genkey -noout -out "$T/p256.pem" 2>/dev/null
	policy "$T/gen.json" id.pem
	run id-block "$T/gen.json" --measurement "$HEX_LD"
	check "id-block with a generated key and no author key" eval \
		'rc_is 0 && out_has "^id-block=$VEC_BLOCK,id-auth=" && ! out_has "author-key" && out_has "^id-key-digest="'
	# The ID block signature verifies with openssl (R, S little-endian in the ID auth).
	python3 - "$T/out" "$T" <<'PY' >/dev/null 2>&1 && openssl ec -in "$T/id.pem" -pubout -out "$T/id.pub" 2>/dev/null
import base64, sys
line = open(sys.argv[1]).readline().strip()
block = base64.b64decode(line.split(",")[0][len("id-block="):])
auth = base64.b64decode(line.split(",")[1][len("id-auth="):])
r = int.from_bytes(auth[0x40:0x40 + 72], "little")
s = int.from_bytes(auth[0x40 + 72:0x40 + 144], "little")
def der_int(v):
    b = v.to_bytes((v.bit_length() + 8) // 8, "big")
    return b"\x02" + bytes([len(b)]) + b
body = der_int(r) + der_int(s)
open(sys.argv[2] + "/sig.der", "wb").write(b"\x30" + bytes([len(body)]) + body)
open(sys.argv[2] + "/block.bin", "wb").write(block)
PY
	check "id-block signature verifies with openssl" eval \
		'openssl dgst -sha384 -verify "$T/id.pub" -signature "$T/sig.der" "$T/block.bin" >/dev/null'

	policy "$T/p256.json" p256.pem
	run id-block "$T/p256.json" --measurement "$HEX_LD"
	check "id-block rejects a P-256 ID key" eval 'rc_is 1 && err_has "expected P-384"'
	policy "$T/p256a.json" id.pem p256.pem
	run id-block "$T/p256a.json" --measurement "$HEX_LD"
	check "id-block rejects a P-256 author key" eval 'rc_is 1 && err_has "author key.*expected P-384"'
else
	skip "id-block with generated keys" "openssl command missing"
fi

policy "$T/missing.json" nosuch.pem
run id-block "$T/missing.json" --measurement "$HEX_LD"
check "id-block with a missing key file exits 1" eval 'rc_is 1 && err_has "ID key: .*nosuch.pem"'

cat >"$T/noid.json" <<'JSON'
{"version": 1, "name": "no-id", "tee": "snp", "vmm": "qemu", "snp": {"policy": {"smt": true}}}
JSON
run id-block "$T/noid.json" --measurement "$HEX_LD"
check "id-block without snp.id_block exits 1" eval 'rc_is 1 && err_has "no snp.id_block"'

run id-block "$T/vec.json" --measurement abc
check "id-block rejects a bad --measurement with status 2" eval 'rc_is 2 && err_has "96 hex digits"'
# 62 base64 characters and "==" decode to 46 bytes, not a 48-byte digest.
run id-block "$T/vec.json" --measurement "$(printf 'A%.0s' $(seq 62))=="
check "id-block rejects padded base64 of fewer than 48 bytes" eval 'rc_is 2 && err_has "96 hex digits"'
run id-block
check "id-block without POLICY is a usage error" eval 'rc_is 2 && err_has "missing POLICY"'
echo '[1]' >"$T/array.json"
run id-block "$T/array.json"
check "id-block states a single policy problem once" eval 'rc_is 1 && err_has "not a policy" && [ $(wc -l <"$T/err") -eq 1 ]'

if [ -n "$SHARED" ] && [ -r "$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin" ]; then
	policy "$T/fw.json" id_vec.pem "" "$SHARED/vectors/snp/ovmf_AmdSev_suffix.bin"
	run id-block "$T/fw.json"
	# test_snp_without_kernel_default: AmdSev fixture, 1 vCPU EPYC-v4, features 0x21, no kernel
	check "id-block measures the policy when --measurement is absent" eval \
		'rc_is 0 && out_has "^measurement=e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b$"'
else
	skip "id-block measuring the policy" "CVMKIT_SHARED not set"
fi
