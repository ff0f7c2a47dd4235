#!/bin/sh
# Mutation check of the launch tests (issue 16): copies the source tree to a temporary
# directory, applies one small mutation at a time to the launcher (a swapped struct field, a
# reordered launch step, a wrong page type, a dropped flag...), rebuilds, runs the seam test
# programs (test_launch, test_kvm, test_snp_certs) and prints per mutation
#   caught (build: ...)   the build refused it (the offset assertions of kvm_uapi.h)
#   caught (tests: ...)   a test failed (names the first failing tests)
#   NOT CAUGHT            everything still passed
# A few mutations are legal reorders the spec allows (QEMU's or the selftests' order); they must
# pass ("accepted (legal)"), so the fake is shown not to enforce more than the spec says.
# Exits 1 if a mutation was not caught, a legal one was refused, or one did not apply.
#
# The code is found by content, not by path (the KVM backends are moving from sev/ and tdx/ to
# launcher/): each mutation names a string that must occur in exactly one source file.
#
# Usage: tests/mutation/run.sh [NAME...]    (default: every mutation; `make mutation`)
# Not part of `make check`: it rebuilds the launch tests once per mutation.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${CVMKIT_SHARED:-$(cd "$SRC/../shared" 2>/dev/null && pwd)}
JOBS=${JOBS:-2}
W=$(mktemp -d /tmp/cvmkit-mutation-XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM
export CVMKIT_SHARED="$SHARED" CMOCKA_MESSAGE_OUTPUT=STDOUT
BUILD=build/mutation
TESTS="test_launch test_kvm test_snp_certs"

copy_tree() {
	if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$SRC" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$W"
	else
		(cd "$SRC" && tar --exclude=./build -cf - .) | tar -xf - -C "$W"
	fi
}

# The one library source or header containing $1 (relative to the tree).
find_file() {
	hits=$(cd "$W" && grep -rlF -- "$1" policy measure sev tdx launcher include 2>/dev/null)
	n=$(printf '%s\n' "$hits" | grep -c .)
	if [ "$n" -ne 1 ]; then
		echo "mutation anchor '$1' is in $n files" >&2
		return 1
	fi
	printf '%s\n' "$hits"
}

TOUCHED=""
# edit ANCHOR PERL: run the perl substitution (-0: whole file) on the file holding ANCHOR.
edit() {
	f=$(find_file "$1") || return 1
	cp "$W/$f" "$W/$f.orig-mutation"
	TOUCHED="$TOUCHED $f"
	perl -0pi -e "$2" "$W/$f"
	if cmp -s "$W/$f" "$W/$f.orig-mutation"; then
		echo "mutation did not change $f" >&2
		return 1
	fi
}

restore() {
	for f in $TOUCHED; do
		mv "$W/$f.orig-mutation" "$W/$f"
		touch "$W/$f"
	done
	TOUCHED=""
}

build() {
	(cd "$W" && make -j"$JOBS" BUILD=$BUILD $(for t in $TESTS; do printf '%s/tests/%s ' $BUILD "$t"; done)) \
		>"$W/build.log" 2>&1
}

# Prints the failing tests (or the failing program) and returns 1 when any failed.
run_tests() {
	failed=""
	for t in $TESTS; do
		if ! (cd "$W" && timeout 600 "$BUILD/tests/$t") >"$W/$t.log" 2>&1; then
			names=$(sed -n 's/^\[  FAILED  \] \([a-z_0-9]*\)$/\1/p' "$W/$t.log" |
				awk '!seen[$0]++' | head -3 | tr '\n' ' ')
			failed="$failed ${names:-$t}"
		fi
	done
	[ -z "$failed" ] && return 0
	echo "$failed" | tr -s ' ' | sed 's/^ //; s/ $//'
	return 1
}

# ---- The mutations: NAME|KIND|ANCHOR|PERL (KIND: bug = must be caught, legal = must pass) --
# Perl runs with -0 on the whole file; $u drops the offset assertions of one struct so the
# swap reaches the tests.
mutations() {
	cat <<'EOF'
snp-update-swap-uaddr-len|bug|struct cvm_kvm_sev_snp_launch_update {|s/(struct cvm_kvm_sev_snp_launch_update \{.*?)(\tuint64_t uaddr;[^\n]*\n)(\tuint64_t len;[^\n]*\n)/$1$3$2/s
snp-update-swap-uaddr-len-no-asserts|bug|struct cvm_kvm_sev_snp_launch_update {|s/(struct cvm_kvm_sev_snp_launch_update \{.*?)(\tuint64_t uaddr;[^\n]*\n)(\tuint64_t len;[^\n]*\n)/$1$3$2/s; s/^CVM_UAPI_AT\(cvm_kvm_sev_snp_launch_update,[^\n]*\n//mg
tdx-region-swap-source-gpa|bug|struct cvm_kvm_tdx_init_mem_region {|s/(struct cvm_kvm_tdx_init_mem_region \{.*?)(\tuint64_t source_addr;[^\n]*\n)(\tuint64_t gpa;[^\n]*\n)/$1$3$2/s
tdx-region-swap-source-gpa-no-asserts|bug|struct cvm_kvm_tdx_init_mem_region {|s/(struct cvm_kvm_tdx_init_mem_region \{.*?)(\tuint64_t source_addr;[^\n]*\n)(\tuint64_t gpa;[^\n]*\n)/$1$3$2/s; s/^CVM_UAPI_AT\(cvm_kvm_tdx_init_mem_region,[^\n]*\n//mg
snp-finish-swap-id-block-auth-no-asserts|bug|struct cvm_kvm_sev_snp_launch_finish {|s/(struct cvm_kvm_sev_snp_launch_finish \{.*?)(\tuint64_t id_block_uaddr;[^\n]*\n)(\tuint64_t id_auth_uaddr;[^\n]*\n)/$1$3$2/s; s/^CVM_UAPI_AT\(cvm_kvm_sev_snp_launch_finish,[^\n]*\n//mg
tdx-code-swap-source-gpa|bug|CVM_KVM_TDX_INIT_MEM_REGION,|s/r\.source_addr = \(uint64_t\)\(uintptr_t\)src;(\s*)r\.gpa = op->gpa;/r.source_addr = op->gpa;$1r.gpa = (uint64_t)(uintptr_t)src;/
snp-init2-after-memory|bug|CVM_KVM_SEV_SNP_LAUNCH_START, &start|s/(\tstruct cvm_kvm_sev_init init;.*?"KVM_SEV_INIT2"\);\n)(.*?cvm_kvm_vm_add_memory\([^\n]*\n[^\n]*\n)/$2$1/s
snp-vcpus-before-init2|bug|CVM_KVM_SEV_SNP_LAUNCH_START, &start|s/(\tstruct cvm_kvm_sev_init init;.*?)(\tif \(\(rc = cvm_kvm_vm_create_vcpus\([^\n]*\n[^\n]*\n)/$2$1/s
snp-memory-not-private|bug|static int add_region(|s/(cvm_kvm_set_memory_attributes\(s, vm->vm_fd, gpa, size,\s*)CVM_KVM_MEMORY_ATTRIBUTE_PRIVATE\)/${1}0)/
snp-swap-secrets-cpuid-page-types|bug|CVM_KVM_SEV_SNP_LAUNCH_START, &start|s/up\.type = type;/up.type = type == CVM_KVM_SEV_SNP_PAGE_TYPE_SECRETS ? CVM_KVM_SEV_SNP_PAGE_TYPE_CPUID : type == CVM_KVM_SEV_SNP_PAGE_TYPE_CPUID ? CVM_KVM_SEV_SNP_PAGE_TYPE_SECRETS : type;/
plan-swap-secrets-cpuid-page-types|bug|CVM_SNP_PAGE_SECRETS = 5,|s/CVM_SNP_PAGE_SECRETS = 5,/CVM_SNP_PAGE_SECRETS = 6,/; s/CVM_SNP_PAGE_CPUID = 6,/CVM_SNP_PAGE_CPUID = 5,/
snp-vmsa-wrong-rdx|bug|static void segment_to_kvm(|s/regs\.rdx = r->rdx;/regs.rdx = r->rsi;/
snp-no-sev-fd|bug|cmd.sev_fd = (uint32_t)sev_fd;|s/cmd\.sev_fd = \(uint32_t\)sev_fd;/cmd.sev_fd = (uint32_t)sev_fd * 0;/
snp-pat-left-at-kvm-reset|bug|CVM_KVM_SEV_SNP_LAUNCH_START, &start|s/MSR_IA32_CR_PAT, r->g_pat, err/MSR_IA32_CR_PAT, 0x0007040600070406ull, err/
prefault-before-finish|bug|"%s: pre-fault"|s/(\tfor \(size_t b = 0; b < nbackends; b\+\+\) \{\n\t\tif \(backends\[b\]\.ops->finish.*?\n\t\}\n)(\tfor \(size_t b = 0; b < nbackends; b\+\+\) \{\n\t\tif \(backends\[b\]\.ops->prefault.*?\n\t\}\n)/$2$1/s
tdx-no-measure-flag|bug|CVM_KVM_TDX_INIT_MEM_REGION,|s/\(op->flags & CVM_OP_MR_EXTEND\) \? CVM_KVM_TDX_MEASURE_MEMORY_REGION : 0/0/
tdx-init-vm-after-vcpus|bug|CVM_KVM_TDX_INIT_MEM_REGION,|s/(\tif \(\(rc = tdx_init_vm\(ctx, plan, err\)\)\)\n\t\treturn rc;\n)(\tif \(\(rc = cvm_kvm_vm_create_vcpus\([^\n]*\n[^\n]*\n)/$2$1/
tdx-init-vcpu-without-hob|bug|CVM_KVM_TDX_INIT_MEM_REGION,|s/CVM_KVM_TDX_INIT_VCPU, 0,\s*plan->tdx\.td_hob_gpa, &hw\);/CVM_KVM_TDX_INIT_VCPU, 0, 0, &hw);/
tdx-finalize-skipped|bug|CVM_KVM_TDX_INIT_MEM_REGION,|s/(static int tdx_finish\(void \*vctx, const struct cvm_plan \*plan, struct cvm_error \*err\)\n\{\n)/$1\tif (plan)\n\t\treturn 0;\n/
tdx-finalize-on-vcpu-fd|bug|CVM_KVM_TDX_INIT_MEM_REGION,|s/ctx->vm->vm_fd, CVM_KVM_TDX_FINALIZE_VM/ctx->vm->vcpu_fds[0], CVM_KVM_TDX_FINALIZE_VM/
snp-finish-skipped|bug|CVM_KVM_SEV_SNP_LAUNCH_START, &start|s/(static int snp_finish\(void \*vctx, const struct cvm_plan \*plan, struct cvm_error \*err\)\n\{\n)/$1\tif (plan)\n\t\treturn 0;\n/
tdx-two-pass-launched|bug|CVM_KVM_TDX_INIT_MEM_REGION,|s/if \(plan->tdx\.order == CVM_TDX_ORDER_TWO_PASS\)/if (0)/
snp-cpuid-not-masked|bug|static void mask_refused_cpuid(|s/(static void mask_refused_cpuid\(struct kvm_cpuid_entry2 \*e\)\n\{\n)/$1\tif (e)\n\t\treturn;\n/
snp-cpuid-report-provided-expected-swapped|bug|cvm_snp_cpuid_page_compare(sent, fixed|s/cvm_snp_cpuid_page_compare\(sent, fixed/cvm_snp_cpuid_page_compare(fixed, sent/
snp-cpuid-retry-ignored|bug|if (!ctx->snp_cpuid_retry)|s/if \(!ctx->snp_cpuid_retry\)/if (ctx)/
snp-host-features-unchecked|bug|check_host_features(s, plan->snp.vmsa_features, err)|s/check_host_features\(s, plan->snp\.vmsa_features, err\)/check_host_features(s, 0, err)/
snp-init2-features-dropped|bug|init.vmsa_features = plan->snp.vmsa_features;|s/init\.vmsa_features = plan->snp\.vmsa_features;/init.vmsa_features = 0;/
snp-tsc-after-launch-start|bug|set_secure_tsc(ctx, plan, err)|s/(\tif \(\(rc = set_secure_tsc\(ctx, plan, err\)\)\)\n\t\treturn rc;\n)(.*?"SNP_LAUNCH_START"\);\n)/$2$1/s
snp-tsc-skipped|bug|set_secure_tsc(ctx, plan, err)|s/ \|\| !plan->snp\.tsc_khz\)/ || plan->snp.tsc_khz)/
snp-req-certs-swap-npages-ret|bug|struct cvm_kvm_snp_req_certs {|s/(struct cvm_kvm_snp_req_certs \{.*?)(\tuint64_t npages;[^\n]*\n)(\tuint64_t ret;[^\n]*\n)/$1$3$2/s
snp-req-certs-swap-npages-ret-no-asserts|bug|struct cvm_kvm_snp_req_certs {|s/(struct cvm_kvm_snp_req_certs \{.*?)(\tuint64_t npages;[^\n]*\n)(\tuint64_t ret;[^\n]*\n)/$1$3$2/s; s/^CVM_UAPI_AT\(cvm_kvm_snp_req_certs,[^\n]*\n//mg
snp-req-certs-swap-gpa-npages-no-asserts|bug|struct cvm_kvm_snp_req_certs {|s/(struct cvm_kvm_snp_req_certs \{.*?)(\tuint64_t gpa;[^\n]*\n)(\tuint64_t npages;[^\n]*\n)/$1$3$2/s; s/^CVM_UAPI_AT\(cvm_kvm_snp_req_certs,[^\n]*\n//mg
snp-cert-table-swap-offset-length|bug|cvm_put_le32(e + 20, (uint32_t)certs[i].len);|s/cvm_put_le32\(e \+ 16, \(uint32_t\)at\);\n(\s*)cvm_put_le32\(e \+ 20, \(uint32_t\)certs\[i\]\.len\);/cvm_put_le32(e + 20, (uint32_t)at);\n$1cvm_put_le32(e + 16, (uint32_t)certs[i].len);/
snp-req-certs-enable-after-vcpus|bug|static int enable_req_certs(|s/(\tif \(ctx->snp_certs && \(rc = enable_req_certs\(ctx, err\)\)\)\n\t\treturn rc;\n)(.*?\tif \(\(rc = cvm_kvm_vm_create_vcpus\([^\n]*\n[^\n]*\n)/$2$1/s
snp-certs-unlocked-before-the-report|bug|run->immediate_exit = 1;|s/\trun->immediate_exit = 1;/\tcvm_snp_certs_unlock(c);/
gmem-attributes2-swap-offset-size-no-asserts|bug|struct cvm_kvm_memory_attributes2 {|s/(struct cvm_kvm_memory_attributes2 \{.*?)(\tuint64_t offset;[^\n]*\n)(\tuint64_t size;[^\n]*\n)/$1$3$2/s; s/^CVM_UAPI_AT\(cvm_kvm_memory_attributes2,[^\n]*\n//mg
snp-inplace-swap-offset-size|bug|static int gmem_convert(|s/cvm_kvm_gmem_set_attributes2\(s, r->gmem_fd, off, size,/cvm_kvm_gmem_set_attributes2(s, r->gmem_fd, size, off,/
snp-inplace-convert-without-preserve|bug|static int write_in_place(|s/priv, CVM_KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE,/priv, 0,/
snp-inplace-populate-before-converting|bug|static int write_in_place(|s/rc = gmem_convert\(s, r, off, op->size, priv, CVM_KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE,\n\t\t\t  "private, preserve", err\);/rc = 0;/
snp-inplace-eagain-retried-with-the-mapping|bug|static int gmem_convert(|s/\t\t\ts->ops->munmap\(s->ctx, r->gmem_map, r->size\);\n\t\t\tr->gmem_map = NULL;\n//
snp-inplace-bytes-not-written|bug|static int write_in_place(|s/memcpy\(r->gmem_map \+ off, op->data, dlen\);/(void)dlen;/
snp-launch-start-before-memory|legal|CVM_KVM_SEV_SNP_LAUNCH_START, &start|s/(\tctx->fw_size = cvm_kvm_plan_firmware_size\(plan\);\n.*?\n\n)(\tstruct cvm_kvm_sev_snp_launch_start start;.*?"SNP_LAUNCH_START"\);\n)/$2\n$1/s
snp-vcpus-before-launch-start|legal|CVM_KVM_SEV_SNP_LAUNCH_START, &start|s/(\tstruct cvm_kvm_sev_snp_launch_start start;.*?"SNP_LAUNCH_START"\);\n\n)(\tif \(\(rc = cvm_kvm_vm_create_vcpus\([^\n]*\n[^\n]*\n)/$2$1/s
tdx-memory-before-init-vm|legal|CVM_KVM_TDX_INIT_MEM_REGION,|s/(\tif \(\(rc = tdx_init_vm\(ctx, plan, err\)\)\)\n)/\tctx->fw_size = cvm_kvm_plan_firmware_size(plan);\n\tif ((rc = cvm_kvm_vm_add_memory(ctx->vm, plan->mem_size, ctx->fw_size, true, err)))\n\t\treturn rc;\n$1/; s/\tctx->fw_size = cvm_kvm_plan_firmware_size\(plan\);\n\treturn cvm_kvm_vm_add_memory\(ctx->vm, plan->mem_size, ctx->fw_size, true, err\);/\treturn 0;/
EOF
}

copy_tree
if [ -z "$SHARED" ] || [ ! -d "$SHARED/vectors" ]; then
	echo "mutation: the shared test data is missing (set CVMKIT_SHARED)" >&2
	exit 2
fi
printf 'mutation: baseline build in %s ... ' "$W"
if ! build; then
	echo "FAILED"; tail -30 "$W/build.log"; exit 2
fi
if ! out=$(run_tests); then
	echo "tests fail before any mutation: $out"; exit 2
fi
echo "ok"

mutations | while IFS='|' read -r name kind anchor perl; do
	[ -n "$name" ] || continue
	if [ $# -gt 0 ]; then
		case " $* " in *" $name "*) ;; *) continue ;; esac
	fi
	if ! edit "$anchor" "$perl"; then
		printf '%-42s NOT APPLIED (update the mutation)\n' "$name"
		restore
		echo bad >>"$W/bad"
		continue
	fi
	if ! build; then
		why=$(grep -m1 -E 'error:' "$W/build.log" | sed 's/.*error: //' | cut -c1-90)
		result="caught (build: $why)"
		[ "$kind" = legal ] && result="REFUSED by the build (a legal order)"
	elif out=$(run_tests); then
		result="NOT CAUGHT"
		[ "$kind" = legal ] && result="accepted (legal per the spec)"
	else
		result="caught (tests: $out)"
		[ "$kind" = legal ] && result="REFUSED (a legal order): $out"
	fi
	printf '%-42s %s\n' "$name" "$result"
	case $result in caught*|accepted*) ;; *) echo bad >>"$W/bad" ;; esac
	restore
done
if [ -s "$W/bad" ]; then
	echo "mutation: $(wc -l <"$W/bad" | tr -d ' ') mutation(s) not as expected"
	exit 1
fi
echo "mutation: every mutation as expected"
