#!/usr/bin/env bats
# libagentutils as other runtimes see it: the shared library's exports and
# soname, and the installed tree (header, pkg-config, man pages,
# completions, schemas) working for a C program and for Python's ctypes.

load helper

setup_file() {
	export STAGE=$BATS_FILE_TMPDIR/stage
	make -s -C "$TOP" SAN="${AU_SAN:-}" install DESTDIR="$STAGE" PREFIX=/usr \
	    >"$BATS_FILE_TMPDIR/install.log" 2>&1
}

@test "the shared library exports only au_ symbols, versioned AGENTUTILS_0" {
	so=$AU_BUILD/libagentutils.so.0
	run sh -c "nm -D --defined-only '$so' | awk '\$2 ~ /^[TDBR]\$/ { print \$3 }'"
	assert_success
	# every exported name is au_something@@AGENTUTILS_0
	refute_output --regexp '^([^a]|a[^u]|au[^_])'
	refute_output --regexp '@@[^A]|@@A[^G]|[^0]$'
	assert_line au_ulid@@AGENTUTILS_0
	assert_line au_db_open@@AGENTUTILS_0
	run sh -c "readelf -d '$so' | grep SONAME"
	assert_output --partial '[libagentutils.so.0]'
}

@test "make install puts every part in its place under DESTDIR and PREFIX" {
	for f in bin/aw-plan lib/libagentutils.a lib/libagentutils.so.0.1.0 \
	    include/agentutils.h lib/pkgconfig/agentutils.pc \
	    share/man/man1/aw-plan.1 share/man/man5/agentutils-records.5 \
	    share/man/man7/agentutils.7 share/agentutils/schemas/task.schema.json \
	    share/bash-completion/completions/aw-plan \
	    share/zsh/vendor-completions/_aw-plan \
	    share/fish/vendor_completions.d/aw-plan.fish; do
		assert [ -f "$STAGE/usr/$f" ]
	done
	assert_equal "$(readlink "$STAGE/usr/lib/libagentutils.so.0")" libagentutils.so.0.1.0
	assert_equal "$(readlink "$STAGE/usr/lib/libagentutils.so")" libagentutils.so.0
	grep -q '^prefix=/usr$' "$STAGE/usr/lib/pkgconfig/agentutils.pc"
	run "$STAGE/usr/bin/aw-plan" --version
	assert_success
}

@test "a C program builds against the installed library with pkg-config" {
	[ "${AU_SAN:-}" != 1 ] || skip "the sanitizer build's library needs the sanitizer runtime linked first"
	cat >ulid.c <<-'C'
	#include <stdio.h>
	#include <agentutils.h>
	int main(void) {
		char id[AU_ID_LEN], ts[AU_TS_LEN];
		int64_t ms;
		if (au_dur_parse("1h30m", &ms) != 0) return 1;
		printf("%s %lld %s\n", au_ulid(id), (long long)ms, au_ts_fmt(0, ts));
		return 0;
	}
	C
	export PKG_CONFIG_PATH=$STAGE/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$STAGE
	cc -o ulid ulid.c $(pkg-config --cflags --libs agentutils)
	LD_LIBRARY_PATH=$STAGE/usr/lib run ./ulid
	assert_success
	assert_output --regexp '^[0-7][0-9A-HJKMNP-TV-Z]{25} 5400000 1970-01-01T00:00:00\.000Z$'
}

@test "Python's ctypes calls the library" {
	[ "${AU_SAN:-}" != 1 ] || skip "a sanitizer-built library cannot be loaded into python"
	run /usr/bin/python3 -c '
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
ms = ctypes.c_int64()
assert lib.au_dur_parse(b"2m", ctypes.byref(ms)) == 0
assert lib.au_dur_parse(b"2 minutes", ctypes.byref(ms)) == -1
buf = ctypes.create_string_buffer(27)
lib.au_ulid(buf)
print(ms.value, len(buf.value))
' "$STAGE/usr/lib/libagentutils.so.0"
	assert_success
	assert_output "120000 26"
}

@test "make uninstall removes what install put there" {
	make -s -C "$TOP" SAN="${AU_SAN:-}" uninstall DESTDIR="$STAGE" PREFIX=/usr
	run find "$STAGE" -type f -o -type l
	assert_output ""
}
