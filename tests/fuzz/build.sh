#!/bin/sh
# build.sh [SRCDIR [OUTDIR]] - builds the libFuzzer targets of tests/fuzz
# with clang (-fsanitize=fuzzer,address,undefined) into OUTDIR.
#
#   SRCDIR  the top of the cdivas source tree (default: two levels above
#           this script)
#   OUTDIR  where the targets go (default: fuzz); created if missing
#
# The project's pure sources (the ones that form libcdivascore.a and
# libmikey.a in Makefile.am) are compiled once with coverage
# instrumentation (-fsanitize=fuzzer-no-link) into two archives in
# OUTDIR/obj, and each target links against them plus pkg-config's
# libconfig, jansson and libcrypto. Also builds OUTDIR/gen_mikey_corpus,
# the generator of the MIKEY seed corpus (see README).
#
# Environment: FUZZ_CC (default: clang, else clang-14), FUZZ_CFLAGS
# (extra compiler flags, e.g. -O2), PKG_CONFIG.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${1:-$here/../..}
out=${2:-fuzz}
srcdir=$(cd "$srcdir" && pwd)
fuzzdir=$srcdir/tests/fuzz

if [ -n "${FUZZ_CC:-}" ]; then
  cc=$FUZZ_CC
elif command -v clang >/dev/null 2>&1; then
  cc=clang
elif command -v clang-14 >/dev/null 2>&1; then
  cc=clang-14
else
  echo "build.sh: clang not found (Debian: apt-get install -y clang libclang-rt-14-dev)" >&2
  exit 1
fi

rm -rf "$out/obj"
mkdir -p "$out/obj/core" "$out/obj/mikey"
out=$(cd "$out" && pwd)

# libFuzzer's runtime is in libclang-rt-NN-dev on Debian: check for it
# once, so a missing package gives one clear message.
probe=$out/obj/probe
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){(void)d;(void)n;return 0;}\n' \
  >"$probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" >"$probe.log" 2>&1; then
  cat "$probe.log" >&2
  echo "build.sh: $cc cannot build libFuzzer targets (Debian: apt-get install -y clang libclang-rt-14-dev)" >&2
  exit 1
fi
rm -f "$probe" "$probe.c" "$probe.log"

PKG_CONFIG=${PKG_CONFIG:-pkg-config}
pkg_cflags=$($PKG_CONFIG --cflags libconfig jansson libcrypto libxml-2.0)
pkg_libs=$($PKG_CONFIG --libs libconfig jansson libcrypto libxml-2.0)

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# _GNU_SOURCE as configure's AC_USE_SYSTEM_EXTENSIONS defines it.
base="-std=c11 -g -O1 -D_GNU_SOURCE -Wall -Wextra $san ${FUZZ_CFLAGS:-}"
inc="-I$srcdir/src -I$fuzzdir"

# Every source of the pure layers (src/core, src/conf, src/mikey,
# src/simservs): the
# folders are the lists, so a file added there is fuzzed along.
echo "build.sh: $cc, sources from $srcdir, targets into $out"
for f in "$srcdir"/src/core/*.c "$srcdir"/src/conf/*.c; do
  # shellcheck disable=SC2086
  "$cc" $base -fsanitize=fuzzer-no-link $inc $pkg_cflags -c "$f" -o "$out/obj/core/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
done
for f in "$srcdir"/src/mikey/*.c; do
  # shellcheck disable=SC2086
  "$cc" $base -fsanitize=fuzzer-no-link $inc $pkg_cflags -c "$f" -o "$out/obj/mikey/$(basename "$f" .c).o"
done
mkdir -p "$out/obj/simservs"
for f in "$srcdir"/src/simservs/*.c; do
  # shellcheck disable=SC2086
  "$cc" $base -fsanitize=fuzzer-no-link $inc $pkg_cflags -c "$f" -o "$out/obj/simservs/$(basename "$f" .c).o"
done
rm -f "$out/obj/libcore.a" "$out/obj/libmikey.a" "$out/obj/libsimservs.a"
ar rcs "$out/obj/libcore.a" "$out"/obj/core/*.o
ar rcs "$out/obj/libmikey.a" "$out"/obj/mikey/*.o
ar rcs "$out/obj/libsimservs.a" "$out"/obj/simservs/*.o

targets="fuzz_history_info fuzz_diversion fuzz_identity fuzz_conf fuzz_inquiry fuzz_mikey fuzz_ledger_wire fuzz_simservs"
for t in $targets; do
  # shellcheck disable=SC2086
  "$cc" $base -Werror -fsanitize=fuzzer $inc $pkg_cflags "$fuzzdir/$t.c" \
    "$out/obj/libsimservs.a" "$out/obj/libcore.a" "$out/obj/libmikey.a" $pkg_libs -o "$out/$t"
  echo "  $out/$t"
done
# The seed generator: a plain program (no libFuzzer main), same objects.
# shellcheck disable=SC2086
"$cc" $base -Werror -fsanitize=fuzzer-no-link $inc $pkg_cflags "$fuzzdir/gen_mikey_corpus.c" \
  "$out/obj/libmikey.a" $pkg_libs -o "$out/gen_mikey_corpus"
echo "  $out/gen_mikey_corpus"
