# The dependency direction of DESIGN.md, read from the object files:
#   launcher/cli -> launcher/libvirt -> launcher -> {sev, tdx} -> measure -> policy
# An object may reference symbols of its own folder and of the folders below it, never above;
# sev and tdx never reference each other.  Each object's undefined symbols are mapped to the
# folder that defines them; every violation is named with its file and symbol.
. tests/cli/lib.sh

BUILD=${BUILD:-build/rel}
: >"$T/out"
: >"$T/err"


# violations OBJDIR [SRCDIR]: one line "FILE -> FOLDER: SYMBOL" per reference that goes the wrong
# way.  With SRCDIR, only objects whose source is there count (a stale object of a moved file
# is not part of the build).
violations() {
	(
		cd "$1" || exit 2
		find policy measure sev tdx launcher -name '*.o' 2>/dev/null | sort |
			while read -r o; do
				[ -z "$2" ] || [ -f "$2/${o%.o}.c" ] && echo "$o"
			done >"$T/objs"
		while read -r o; do
			nm --defined-only -g "$o" | awk -v f="$o" 'NF == 3 { print "D", $3, f }'
			nm -u "$o" | awk -v f="$o" '{ print "U", $2, f }'
		done <"$T/objs"
	) | awk '
		function folder(f,    k, p, d) { k = split(f, p, "/"); d = p[1]; if (p[1] == "launcher" && k > 2) d = d "/" p[2]; return d }
		function rank(d) {
			if (d == "policy") return 0; if (d == "measure") return 1
			if (d == "sev" || d == "tdx") return 2; if (d == "launcher") return 3
			if (d == "launcher/libvirt") return 4; if (d == "launcher/cli") return 5
			return -1
		}
		$1 == "D" { def[$2] = folder($3) }
		$1 == "U" { use[++n] = $2; from[n] = $3 }
		END {
			for (i = 1; i <= n; i++) {
				s = use[i]; if (!(s in def)) continue
				a = folder(from[i]); b = def[s]
				if (a == b) continue
				if (rank(b) > rank(a) || (rank(a) == 2 && rank(b) == 2))
					printf "%s -> %s: %s\n", from[i], b, s
			}
		}' | sed 's|\.o -> |.c -> |' | sort
}

if [ ! -d "$BUILD/obj/policy" ]; then
	skip "no upward or sideways references" "no objects in $BUILD/obj (run make first)"
	exit 0
fi
RC=0
violations "$BUILD/obj" "$PWD" >"$T/found"
check "no object references a folder above it, nor sev <-> tdx" test ! -s "$T/found"
if [ -s "$T/found" ]; then sed 's/^/#   /' "$T/found"; fi

# The check can fail: a policy object that calls into launcher/, and sev calling tdx.
mkdir -p "$T/fake/policy" "$T/fake/launcher" "$T/fake/sev" "$T/fake/tdx"
printf 'int cvm_launch_up(void);\nint cvm_policy_down(void) { return cvm_launch_up(); }\n' >"$T/p.c"
printf 'int cvm_launch_up(void) { return 1; }\n' >"$T/l.c"
printf 'int cvm_tdx_side(void);\nint cvm_snp_side(void) { return cvm_tdx_side(); }\n' >"$T/s.c"
printf 'int cvm_tdx_side(void) { return 2; }\n' >"$T/t.c"
CC=${CC:-cc}
$CC -c -o "$T/fake/policy/p.o" "$T/p.c" && $CC -c -o "$T/fake/launcher/l.o" "$T/l.c" &&
	$CC -c -o "$T/fake/sev/s.o" "$T/s.c" && $CC -c -o "$T/fake/tdx/t.o" "$T/t.c"
violations "$T/fake" >"$T/found"
check "an upward reference is found and named" grep -qx 'policy/p.c -> launcher: cvm_launch_up' "$T/found"
check "a reference between sev and tdx is found and named" grep -qx 'sev/s.c -> tdx: cvm_tdx_side' "$T/found"
