#!/bin/bash
# layers.sh - the include rule that the folders of src/ stand for
# (doc/architecture.md), checked so that the layout stays true.
#
#   tests/layers.sh [SRCDIR]   check SRCDIR (default: $top_srcdir/src or ./src)
#
# A file's folder says what it may include: each line of LAYERS below is a
# folder and the folders its files may include besides their own. The pure
# folders (core, mikey, simservs) may include no Sofia-SIP, socket, hiredis
# or libconfig header (simservs is core's XML mapping, on libxml2). No two modules (a .c with its .h) may include each
# other, directly or round a longer circle. Prints every breach as
# file:line: message and exits 1; exits 0 when the tree keeps the rule.
#
# As a test (make check, no argument) it also proves it can fail: a copy of
# the tree with a deliberate breach of each kind must be refused.
set -u

LAYERS='
core:
mikey:
conf: core
log: core
http: log core
store: core log
simservs: core
sip: core mikey log store
xcap: core conf log http store simservs
cdivas: core conf log http store sip mikey xcap simservs
kms: core conf log http mikey
ue: log http mikey
'
PURE='core mikey simservs'
# System headers a pure folder must not use: the shell's libraries.
IMPURE='sofia-sip/|sys/socket\.h|netinet/|arpa/inet\.h|hiredis/|libconfig\.h|microhttpd|curl/'

allowed_of() {
  printf '%s\n' "$LAYERS" | awk -F: -v l="$1" '$1 == l { print $2; found = 1 } END { exit !found }'
}

check_tree() {
  local src=$1 bad=0 file rel layer deps line num inc target
  local edges
  edges=$(mktemp)
  while IFS= read -r file; do
    rel=${file#"$src"/}
    layer=${rel%%/*}
    if [ "$layer" = "$rel" ]; then
      echo "$file:1: a source file outside any layer folder"
      bad=1
      continue
    fi
    if ! deps=$(allowed_of "$layer"); then
      echo "$file:1: folder '$layer' is not a layer of tests/layers.sh"
      bad=1
      continue
    fi
    local module=${rel%.*}
    while IFS= read -r line; do
      num=${line%%:*}
      inc=${line#*:}
      if [[ $inc =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
        target=${BASH_REMATCH[1]}
        local tlayer=${target%%/*}
        if [ "$tlayer" = "$target" ]; then
          echo "$file:$num: include \"$target\" without its folder (write \"<layer>/$target\")"
          bad=1
          continue
        fi
        if [ "$tlayer" != "$layer" ] && [[ " $deps " != *" $tlayer "* ]]; then
          echo "$file:$num: $layer/ may not include $target (allowed:${deps:- only $layer/})"
          bad=1
        fi
        [ "${target%.*}" != "$module" ] && echo "$module ${target%.*}" >>"$edges"
      elif [[ $inc =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^\>]+)\> ]]; then
        target=${BASH_REMATCH[1]}
        if [[ " $PURE " == *" $layer "* ]] && [[ $target =~ $IMPURE ]]; then
          echo "$file:$num: pure $layer/ may not include <$target>"
          bad=1
        fi
      fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$file")
  done < <(find "$src" -name '*.[ch]' | sort)

  # A circle among modules: tsort names it on stderr. A module is a .c with
  # its .h; a header with no .c of its own (an interface several files
  # share, such as store/backend.h) stands for what it includes.
  local modules loops
  modules=$(find "$src" -name '*.c' | sed "s|^$src/||; s|\.c\$||" | sort)
  loops=$(awk -v mods="$modules" '
      BEGIN { n = split(mods, m, "\n"); for (i = 1; i <= n; i++) has_c[m[i]] = 1 }
      { out[$1] = out[$1] " " $2; from[NR] = $1; to[NR] = $2 }
      function expand(node, seen,    k, parts, i) {
        if (has_c[node]) { print_targets[node] = 1; return }
        if (node in seen) return
        seen[node] = 1
        k = split(out[node], parts, " ")
        for (i = 1; i <= k; i++) expand(parts[i], seen)
      }
      END {
        for (e = 1; e <= NR; e++) {
          if (!has_c[from[e]]) continue
          delete print_targets; delete seen
          expand(to[e], seen)
          for (t in print_targets) if (t != from[e]) print from[e], t
        }
      }' "$edges" | tsort 2>&1 >/dev/null | grep -v 'input contains a loop' | sed 's/^tsort: //')
  if [ -n "$loops" ]; then
    echo "include circle among modules:"
    printf '  %s\n' $loops
    bad=1
  fi
  rm -f "$edges"
  return $bad
}

src=${1:-${top_srcdir:-.}/src}
if [ ! -d "$src/core" ]; then
  echo "layers.sh: $src has no core/ folder" >&2
  exit 2
fi

check_tree "$src" || exit 1
echo "layers.sh: $src keeps the include rule"
[ $# -gt 0 ] && exit 0

# Self-test: each kind of breach, on a copy, must be refused.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
breach() {
  local what=$1 file=$2 text=$3
  rm -rf "$tmp/src" && cp -r "$src" "$tmp/src"
  printf '%s\n' "$text" >>"$tmp/src/$file"
  local out
  if out=$(check_tree "$tmp/src"); then
    echo "layers.sh: FAIL: $what in $file was not refused"
    exit 1
  fi
  echo "layers.sh: refused as it should, $what: $(printf '%s\n' "$out" | head -n 1)"
}
breach "core including the SIP shell" core/identity.c '#include "sip/proxy.h"'
breach "core including Sofia-SIP" core/rules.c '#include <sofia-sip/nta.h>'
breach "a layer including a program's folder" sip/call.c '#include "cdivas/routes.h"'
breach "an include without its folder" store/store.c '#include "store.h"'
breach "a circle" core/conf.h '#include "core/rules.h"'
exit 0
