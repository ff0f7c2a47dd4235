# make install into a temporary DESTDIR; a program builds against it through pkg-config.
. tests/cli/lib.sh

BUILD=${BUILD:-build/rel}
SANITIZE=${SANITIZE:-0}
D=$T/root
PREFIX=/usr/local

make --no-print-directory -s install DESTDIR="$D" PREFIX=$PREFIX BUILD="$BUILD" SANITIZE="$SANITIZE" \
	>"$T/out" 2>"$T/err"
RC=$?
check "make install DESTDIR exits 0" rc_is 0

check "binary installed" test -x "$D$PREFIX/bin/cvmkit"
check "the libvirt verb's program installed in libexec" test -x "$D$PREFIX/libexec/cvmkit/cvmkit-libvirt"
check "static and shared libraries installed" eval 'for l in libcvmkit libcvmkit-libvirt; do test -f "$D$PREFIX/lib/$l.a" && test -L "$D$PREFIX/lib/$l.so" && test -L "$D$PREFIX/lib/$l.so.0" || exit 1; done'
check "public headers installed, private uAPI header not" eval 'test -f "$D$PREFIX/include/cvmkit/emit.h" && test -f "$D$PREFIX/include/cvmkit/libvirt.h" && ! test -e "$D$PREFIX/include/cvmkit/kvm_uapi.h"'
check "pkg-config files installed" eval 'test -f "$D$PREFIX/lib/pkgconfig/cvmkit.pc" && test -f "$D$PREFIX/lib/pkgconfig/cvmkit-libvirt.pc"'
nm -D --defined-only "$D$PREFIX/lib/libcvmkit.so" | awk '$2 != "A" && $3 !~ /^cvm_/' >"$T/out" 2>"$T/err"
RC=$?
check "libcvmkit.so exports only cvm_ symbols" eval 'rc_is 0 && [ ! -s "$T/out" ]'
ldd "$D$PREFIX/lib/libcvmkit.so" >"$T/out" 2>"$T/err"
RC=$?
check "libcvmkit.so does not link libvirt" eval 'rc_is 0 && ! out_has libvirt'
check "man pages installed" eval 'test -f "$D$PREFIX/share/man/man1/cvmkit.1" && test -f "$D$PREFIX/share/man/man5/cvmkit-policy.5"'
check "bash completion installed" test -f "$D$PREFIX/share/bash-completion/completions/cvmkit"

export PKG_CONFIG_PATH="$D$PREFIX/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
run_pc() { pkg-config "$@" >"$T/out" 2>"$T/err"; RC=$?; }
run_pc --modversion cvmkit
check "pkg-config knows cvmkit and its version" eval 'rc_is 0 && out_has "^[0-9][0-9.]*$"'
run_pc --cflags cvmkit
check "pkg-config --cflags points into DESTDIR" eval 'rc_is 0 && out_has "\-I$D$PREFIX/include"'
run_pc --libs cvmkit
check "pkg-config --libs keeps private deps out of dynamic linking" eval 'rc_is 0 && out_has "\-lcvmkit" && ! out_has "\-lcbor"'
run_pc --static --libs cvmkit
check "pkg-config --static --libs adds the private deps" eval 'rc_is 0 && out_has "\-lcbor" && out_has "\-ljson-c" && out_has "\-lcrypto" && out_has "\-lpthread" && ! out_has "\-lvirt"'
run_pc --libs cvmkit-libvirt
check "pkg-config --libs cvmkit-libvirt names both libraries" eval 'rc_is 0 && out_has "\-lcvmkit-libvirt" && out_has "\-lcvmkit "'
run_pc --static --libs cvmkit-libvirt
check "pkg-config --static --libs cvmkit-libvirt adds libvirt" eval 'rc_is 0 && out_has "\-lvirt"'

# A program using every installed header and the measurement API.
{
	for h in "$D$PREFIX"/include/cvmkit/*.h; do echo "#include <cvmkit/$(basename "$h")>"; done
	cat <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	struct cvm_measurement *m = cvm_measurement_new(CVM_TEE_SNP, "snp");
	struct cvm_measurement *back = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct cvm_error err;
	if (!m)
		return 1;
	memset(m->digest, 0xab, 48);
	cvm_measurement_add_input_u64(m, "vcpus", 2);
	if (cvm_measurement_encode(m, CVM_FMT_CORIM, &buf, &len, &err) < 0 ||
	    cvm_measurement_decode(buf, len, &back, &err) < 0) {
		fprintf(stderr, "%s\n", cvm_error_message(&err));
		return 1;
	}
	free(buf);
	if (cvm_measurement_encode(back, CVM_FMT_HEX, &buf, &len, &err) < 0)
		return 1;
	fwrite(buf, 1, len, stdout);
	free(buf);
	cvm_measurement_free(back);
	cvm_measurement_free(m);
	return 0;
}
C
} >"$T/prog.c"

SANFLAGS=
[ "$SANITIZE" = 1 ] && SANFLAGS="-fsanitize=address,undefined"
EXPECT=$(printf "ab%.0s" $(seq 48))
CC=${CC:-cc}
if $CC -std=c11 $SANFLAGS $(pkg-config --cflags cvmkit) -o "$T/prog" "$T/prog.c" $(pkg-config --libs cvmkit) \
	>"$T/out" 2>"$T/err"; then RC=0; else RC=1; fi
check "a program builds against the installed shared library" rc_is 0
LD_LIBRARY_PATH="$D$PREFIX/lib" "$T/prog" >"$T/out" 2>"$T/err"
RC=$?
check "and runs (CoRIM round trip through libcvmkit.so)" eval 'rc_is 0 && out_is "$EXPECT"'

if $CC -std=c11 $SANFLAGS $(pkg-config --cflags cvmkit) -o "$T/prog-static" "$T/prog.c" \
	"$D$PREFIX/lib/libcvmkit.a" $(pkg-config --static --libs cvmkit | sed 's/-lcvmkit//') \
	>"$T/out" 2>"$T/err"; then RC=0; else RC=1; fi
check "a program links the static library with pkg-config --static" rc_is 0
"$T/prog-static" >"$T/out" 2>"$T/err"
RC=$?
check "and runs without libcvmkit.so" eval 'rc_is 0 && out_is "$EXPECT"'

# A C++ program sees every installed header as C (extern "C") and links libcvmkit.
{
	for h in "$D$PREFIX"/include/cvmkit/*.h; do echo "#include <cvmkit/$(basename "$h")>"; done
	cat <<'CXX'
#include <cstdio>
#include <cstdlib>

int main()
{
	struct cvm_error err;
	cvm_error_clear(&err);
	cvm_measurement *m = cvm_measurement_new(CVM_TEE_TDX, "tdx");
	if (!m)
		return 1;
	uint8_t *buf = nullptr;
	size_t len = 0;
	if (cvm_measurement_encode(m, CVM_FMT_JSON, &buf, &len, &err) < 0) {
		std::fprintf(stderr, "%s\n", cvm_error_message(&err));
		return 1;
	}
	std::printf("%s %zu\n", cvm_errno_name(-24), len > 0 ? (size_t)1 : (size_t)0);
	std::free(buf);
	cvm_measurement_free(m);
	return 0;
}
CXX
} >"$T/prog.cpp"
CXX=${CXX:-c++}
if command -v "$CXX" >/dev/null 2>&1; then
	if $CXX -std=c++17 -Wall -Werror $SANFLAGS $(pkg-config --cflags cvmkit) -o "$T/progxx" "$T/prog.cpp" \
		$(pkg-config --libs cvmkit) >"$T/out" 2>"$T/err"; then RC=0; else RC=1; fi
	check "a C++ program builds against the installed headers and library" rc_is 0
	LD_LIBRARY_PATH="$D$PREFIX/lib" "$T/progxx" >"$T/out" 2>"$T/err"
	RC=$?
	check "and runs" eval 'rc_is 0 && out_is "EMFILE 1"'
else
	skip "a C++ program builds against the installed headers and library" "no C++ compiler"
fi

# A program of the libvirt bridge links libcvmkit-libvirt (and through it libcvmkit).
cat >"$T/virt.c" <<'C'
#include <cvmkit/libvirt.h>
#include <stdio.h>

int main(void)
{
	char v[32];
	cvm_libvirt_version_string(10005000ull, v, sizeof(v));
	puts(v);
	return 0;
}
C
if $CC -std=c11 $SANFLAGS $(pkg-config --cflags cvmkit-libvirt) -o "$T/virt" "$T/virt.c" \
	$(pkg-config --libs cvmkit-libvirt) >"$T/out" 2>"$T/err"; then RC=0; else RC=1; fi
check "a program builds against libcvmkit-libvirt" rc_is 0
LD_LIBRARY_PATH="$D$PREFIX/lib" "$T/virt" >"$T/out" 2>"$T/err"
RC=$?
check "and runs" eval 'rc_is 0 && out_is "10.5.0"'

LD_LIBRARY_PATH="$D$PREFIX/lib" "$D$PREFIX/bin/cvmkit" libvirt caps test:///default >"$T/out" 2>"$T/err"
RC=$?
check "installed cvmkit runs its libvirt program from libexec" eval 'rc_is 0 && out_has "SEV-SNP"'

LD_LIBRARY_PATH="$D$PREFIX/lib" "$D$PREFIX/bin/cvmkit" --version >"$T/out" 2>"$T/err"
RC=$?
check "installed cvmkit runs" eval 'rc_is 0 && out_has "^cvmkit "'

MANPATH="$D$PREFIX/share/man" man --warnings -E UTF-8 -l "$D$PREFIX/share/man/man1/cvmkit.1" >"$T/out" 2>"$T/err"
RC=$?
check "cvmkit(1) renders without warnings" eval 'rc_is 0 && [ ! -s "$T/err" ] && out_has "libvirt"'
man --warnings -E UTF-8 -l "$D$PREFIX/share/man/man5/cvmkit-policy.5" >"$T/out" 2>"$T/err"
RC=$?
check "cvmkit-policy(5) renders without warnings" eval 'rc_is 0 && [ ! -s "$T/err" ] && out_has "allow_debug"'
# Quoted JSON in the pages renders with its quotes (macro arguments would eat them).
MANWIDTH=200 man -E UTF-8 -l "$D$PREFIX/share/man/man5/cvmkit-policy.5" >"$T/out" 2>"$T/err"
RC=$?
check "cvmkit-policy(5) shows a prefault range's JSON intact" eval 'rc_is 0 && grep -qF "{\"gpa\": address, \"size\": size}" "$T/out"'
MANWIDTH=200 man -E UTF-8 -l "$D$PREFIX/share/man/man1/cvmkit.1" >"$T/out" 2>"$T/err"
RC=$?
check "cvmkit(1) shows the RVPS message's JSON intact" eval 'rc_is 0 && tr -s " " <"$T/out" | grep -qF "{\"version\": \"0.1.0\", \"type\": \"sample\""'

if command -v bash >/dev/null 2>&1; then
	bash -c '. "$1"; COMP_WORDS=(cvmkit libvirt ""); COMP_CWORD=2; _cvmkit; echo "${COMPREPLY[*]}";
		COMP_WORDS=(cvmkit measure p.json --format co); COMP_CWORD=4; _cvmkit; echo "${COMPREPLY[*]}"' \
		_ "$D$PREFIX/share/bash-completion/completions/cvmkit" >"$T/out" 2>"$T/err"
	RC=$?
	check "bash completion completes subcommands and formats" eval 'rc_is 0 && out_has "^caps xml define" && out_has "^corim$"'
	# As bash splits "qemu:///s" at the colon (COMP_WORDBREAKS): the reply goes after it.
	bash -c '. "$1"; COMP_LINE="cvmkit libvirt caps qemu:///s"; COMP_POINT=${#COMP_LINE};
		COMP_WORDS=(cvmkit libvirt caps qemu : ///s); COMP_CWORD=5; _cvmkit; echo "${COMPREPLY[*]}";
		COMP_LINE="cvmkit libvirt caps qemu:"; COMP_POINT=${#COMP_LINE};
		COMP_WORDS=(cvmkit libvirt caps qemu :); COMP_CWORD=4; _cvmkit; echo "${COMPREPLY[*]}"' \
		_ "$D$PREFIX/share/bash-completion/completions/cvmkit" >"$T/out" 2>"$T/err"
	RC=$?
	check "bash completion completes a libvirt URI after qemu:" eval 'rc_is 0 && [ "$(sed -n 1p "$T/out")" = "///system ///session" ] && [ "$(sed -n 2p "$T/out")" = "///system ///session" ]'
else
	skip "bash completion completes subcommands and formats" "no bash"
fi

make --no-print-directory -s uninstall DESTDIR="$D" PREFIX=$PREFIX BUILD="$BUILD" >"$T/out" 2>"$T/err"
RC=$?
check "make uninstall removes every installed file" eval 'rc_is 0 && [ -z "$(find "$D" -type f -o -type l)" ]'
