#!/bin/bash
# The source folders are the design's layers (docs/design.md, "Source layout"): src/core includes
# only src/core, src/sys includes src/core and src/sys, src/cmd includes anything; and the objects
# of src/core do no I/O: no system call or library function that touches a file, and of util.c
# only the memory and string helpers.
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LAYERS_TOP=$(cd "$TESTS_DIR/.." && pwd)

# The exceptions to the include rule, one line each: "FOLDER/FILE HEADER  reason".
# util.h: core uses its memory and string helpers (xmalloc, strv); util.c also reads and writes
#   files under the root, so it lives in sys (the object check below holds core to the helpers).
# config.h: the configuration model (struct config, struct rule) that policy decides on; config.c
#   reads the files and the kernel command line, so it lives in sys until the parser is split.
LAYERS_EXCEPTIONS="
core util.h
core config.h
"

# The functions of util.o that core may call: memory and strings, no files.
LAYERS_CORE_UTIL="xmalloc xcalloc xrealloc xstrdup xstrndup xasprintf strv_push strv_free
strv_contains strv_sort strv_cmp parse_hex strip errstr"

# Library functions that do I/O (after dropping a leading "__", a "_chk" and a "64" suffix).
LAYERS_IO="open openat open_by_handle_at creat read pread readv preadv write pwrite writev pwritev
close opendir fdopendir readdir readdir_r scandir scandirat stat fstat lstat fstatat statx xstat
fxstat lxstat fxstatat newfstatat statfs fstatfs access faccessat faccessat2 euidaccess eaccess
fopen freopen fdopen readlink readlinkat realpath canonicalize_file_name unlink
unlinkat remove rename renameat renameat2 mkdir mkdirat rmdir link linkat symlink symlinkat chmod
fchmod fchmodat chown fchown lchown fchownat truncate ftruncate mmap ioctl fcntl flock lockf dup
dup2 dup3 pipe pipe2 socket connect sendmsg recvmsg dlopen dlmopen dlsym dlvsym getline getdelim
fgets fread fscanf glob nftw ftw popen system execv execve execvp execl fork vfork posix_spawn
getpwnam getgrnam fgetpwent fgetgrent syscall"

# The folder (core, sys, cmd) of a header that some file includes, or "?"
layers_folder_of() {
    local top=$1 name=$2 l
    for l in core sys cmd; do
        [ -e "$top/src/$l/$name" ] && {
            echo "$l"
            return
        }
    done
    echo "?"
}

# Prints one line per #include "..." that breaks the rule, under the source tree $1.
layers_bad_includes() {
    local top=$1 layer f inc to
    for layer in core sys cmd; do
        for f in "$top/src/$layer"/*.[ch]; do
            while IFS= read -r inc; do
                to=$(layers_folder_of "$top" "$inc")
                case "$layer:$to" in
                core:core | sys:core | sys:sys | cmd:core | cmd:sys | cmd:cmd) continue ;;
                esac
                grep -qx "$layer $inc" <<<"$LAYERS_EXCEPTIONS" && [ "$to" = sys ] && continue
                echo "src/$layer/${f##*/}: #include \"$inc\" (src/$to) breaks the rule: $layer includes $(
                    case $layer in core) echo "only core" ;; sys) echo "core and sys" ;; esac
                )"
            done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
        done
    done
}

test_each_folder_includes_only_its_own_layer_and_those_below() {
    local bad
    bad=$(layers_bad_includes "$LAYERS_TOP")
    [ -z "$bad" ] || {
        echo "$bad" >&2
        return 1
    }
    # and every file of src/ is in one of the three folders
    bad=$(find "$LAYERS_TOP/src" -maxdepth 1 -type f -name '*.[ch]')
    [ -z "$bad" ] || {
        echo "files outside src/cmd, src/core, src/sys: $bad" >&2
        return 1
    }
}

test_a_core_file_that_includes_a_sys_header_is_named() {
    local top out
    top=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-layers.XXXXXX")
    CLEANUP+=("$top")
    cp -a "$LAYERS_TOP/src" "$top/"
    printf '#include "sysfs.h"\n#include "cmd.h"\n' >>"$top/src/core/json.c"
    printf '#include "devobj.h"\n' >>"$top/src/sys/bind.h"
    out=$(layers_bad_includes "$top")
    [ "$(wc -l <<<"$out")" -eq 3 ] || {
        echo "expected 3 lines, got: $out" >&2
        return 1
    }
    grep -qF 'src/core/json.c: #include "sysfs.h" (src/sys) breaks the rule: core includes only core' <<<"$out"
    grep -qF 'src/core/json.c: #include "cmd.h" (src/cmd)' <<<"$out"
    grep -qF 'src/sys/bind.h: #include "devobj.h" (src/cmd) breaks the rule: sys includes core and sys' <<<"$out"
}

test_core_objects_do_no_io() {
    if ! command -v "${CC:-cc}" >/dev/null || ! command -v nm >/dev/null; then
        skip "no C compiler or nm"
    fi
    local tmp f o sym name bad="" util_defs
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-layers.XXXXXX")
    CLEANUP+=("$tmp")
    # the fortified build of the package: I/O through __read_chk and friends counts too
    for f in "$LAYERS_TOP"/src/core/*.c "$LAYERS_TOP/src/sys/util.c"; do
        "${CC:-cc}" -D_GNU_SOURCE -std=gnu11 -O2 -D_FORTIFY_SOURCE=2 -I"$LAYERS_TOP/src/core" \
            -I"$LAYERS_TOP/src/sys" -c -o "$tmp/$(basename "$f" .c).o" "$f"
    done
    util_defs=$(nm --defined-only -g "$tmp/util.o" | awk '{print $3}')
    for o in "$tmp"/*.o; do
        [ "$o" = "$tmp/util.o" ] && continue
        for sym in $(nm -u "$o" | awk '{print $2}'); do
            name=${sym#__}
            name=${name%_chk}
            name=${name%64}
            if grep -qw -- "$name" <<<"$LAYERS_IO"; then
                bad+="src/core/$(basename "$o" .o).c calls $sym (I/O)"$'\n'
            elif grep -qx -- "$sym" <<<"$util_defs" && ! grep -qw -- "$sym" <<<"$LAYERS_CORE_UTIL"; then
                bad+="src/core/$(basename "$o" .o).c calls $sym of util.c (not a memory or string helper)"$'\n'
            fi
        done
    done
    [ -z "$bad" ] || {
        printf '%s' "$bad" >&2
        return 1
    }
}

# Prints each cycle among the objects of the source tree $1 (files A and B are tied when A calls
# a function or uses a variable that B defines): one line per strongly connected set, or nothing.
layers_cycles() {
    local top=$1 tmp f
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-layers.XXXXXX")
    CLEANUP+=("$tmp")
    for f in "$top"/src/*/*.c; do
        # shellcheck disable=SC2046
        "${CC:-cc}" -D_GNU_SOURCE -DVERSION='"0"' -std=gnu11 -O0 -I"$top/src/core" -I"$top/src/sys" \
            -I"$top/src/cmd" $(pkg-config --cflags libkmod libudev blkid smartcols libxml-2.0) \
            -c -o "$tmp/$(basename "$(dirname "$f")")_$(basename "$f" .c).o" "$f" || return 1
    done
    (cd "$tmp" && for o in *.o; do nm -g "$o" | sed "s|^|$o |"; done) | python3 -c '
import sys
defs, uses = {}, {}
for line in sys.stdin:
    p = line.split()
    if len(p) == 3 and p[1] == "U":
        uses.setdefault(p[0], set()).add(p[2])
    elif len(p) == 4 and p[2] in "TDBRCV":
        defs[p[3]] = p[0]
objs = sorted(set(defs.values()) | set(uses))
edges = {o: {defs[s] for s in uses.get(o, ()) if s in defs and defs[s] != o} for o in objs}
index, low, stack, on, n = {}, {}, [], set(), [0]
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            names = sorted("src/" + c[:-2].replace("_", "/", 1) + ".c" for c in comp)
            print("cycle: " + " ".join(names))
sys.setrecursionlimit(10000)
for v in objs:
    if v not in index:
        visit(v)
'
}

test_no_cycles_between_source_files() {
    if ! command -v "${CC:-cc}" >/dev/null || ! command -v nm >/dev/null; then
        skip "no C compiler or nm"
    fi
    local out
    out=$(layers_cycles "$LAYERS_TOP") || fail "the sources did not compile"
    [ -z "$out" ] || fail "$out"
}

test_a_cycle_is_named() {
    if ! command -v "${CC:-cc}" >/dev/null || ! command -v nm >/dev/null; then
        skip "no C compiler or nm"
    fi
    local top out
    top=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-layers.XXXXXX")
    CLEANUP+=("$top")
    cp -a "$LAYERS_TOP/src" "$top/"
    # json.c (core) calling back into cmd.c, which uses the JSON writer: one cycle of two
    printf 'void cmd_layers_probe(void);\nvoid json_layers_probe(void);\nvoid json_layers_probe(void) { cmd_layers_probe(); }\n' >>"$top/src/core/json.c"
    printf '#include "json.h"\nvoid cmd_layers_probe(void);\nvoid cmd_layers_probe(void) { jsonw_init(0, 0); }\n' >>"$top/src/cmd/cmd.c"
    out=$(layers_cycles "$top") || fail "the sources did not compile"
    grep -qx "cycle: src/cmd/cmd.c src/core/json.c" <<<"$out" || fail "got '$out'"
}
