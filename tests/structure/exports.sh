# The shared libraries export exactly what their installed headers declare: every exported
# symbol is a function of a public header (of that library), and every function the headers
# declare is exported.  The declarations come from the compiler itself (-aux-info).
. tests/cli/lib.sh

BUILD=${BUILD:-build/rel}
: >"$T/out"
: >"$T/err"

# declared HEADER...: the names of the non-inline functions the headers declare, sorted.
declared() {
	: >"$T/all.c"
	for h in "$@"; do echo "#include <cvmkit/$(basename "$h")>" >>"$T/all.c"; done
	# -aux-info is GCC's; clang builds use gcc for this listing when it is there.
	gcc -std=c11 -D_GNU_SOURCE -Iinclude $(pkg-config --cflags json-c libcbor libvirt 2>/dev/null) \
		-aux-info "$T/aux" -c "$T/all.c" -o "$T/all.o" || return 1
	for h in "$@"; do grep "^/\* $h:" "$T/aux"; done | grep -v '\*/ static ' |
		sed -n 's/.*[ *]\([A-Za-z_][A-Za-z0-9_]*\) (.*/\1/p' | sort -u
}

# exported LIB: the names the shared library exports, sorted.
exported() {
	nm -D --defined-only "$1" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u
}

if ! command -v gcc >/dev/null 2>&1; then
	skip "exported symbols are the declared ones" "gcc is needed for -aux-info"
	exit 0
fi

for lib in libcvmkit libcvmkit-libvirt; do
	so=$BUILD/$lib.so
	if [ "$lib" = libcvmkit ]; then
		set -- $(ls include/cvmkit/*.h | grep -v '/libvirt\.h$')
	else
		set -- include/cvmkit/libvirt.h
	fi
	declared "$@" >"$T/declared.$lib"
	exported "$so" >"$T/exported.$lib"
	comm -13 "$T/declared.$lib" "$T/exported.$lib" >"$T/extra"
	comm -23 "$T/declared.$lib" "$T/exported.$lib" >"$T/missing"
	RC=0
	check "$lib.so exports nothing its headers do not declare" test ! -s "$T/extra"
	sed 's/^/#   exported, not declared: /' "$T/extra"
	check "$lib.so exports every function its headers declare" test ! -s "$T/missing"
	sed 's/^/#   declared, not exported: /' "$T/missing"
	check "$lib.so has a soname with the ABI major" \
		eval "objdump -p '$so' | grep -q 'SONAME *$lib\.so\.[0-9][0-9]*$'"
done
