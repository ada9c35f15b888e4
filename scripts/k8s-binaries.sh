#!/usr/bin/env bash
# Builds the real Kubernetes and etcd commands the tests run, from the Go module proxy only: each folder
# tools/k8s/<version>/ (k8s.io/kubernetes) and tools/etcd/<version>/ (go.etcd.io/etcd) is a small Go
# module whose `tool` lines name the commands. Binaries go to .cache/bin/<folder>/<version>/<command>,
# built only when missing (the Go build and module caches are kept between runs); --version of each
# prints the real version (component-base/version and etcd's version are stamped the way their own
# release builds stamp them). Fails loudly without Go or without the module proxy.
#   usage: scripts/k8s-binaries.sh [--list] [filter]   (filter: a substring of "k8s/v1.37.2", "etcd/v3.6.8", …)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
list=false
if [ "${1:-}" = --list ]; then list=true; shift; fi
filter="${1:-}"
if ! command -v go >/dev/null 2>&1; then
  for g in /usr/local/go/bin/go /usr/lib/go/bin/go; do [ -x "$g" ] && export PATH="$PATH:$(dirname "$g")" && break; done
fi
command -v go >/dev/null 2>&1 || { echo "k8s-binaries: no Go toolchain on PATH (need Go >= 1.26 to build kube-apiserver, kubeadm, etcd …); install Go and retry" >&2; exit 1; }
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local
built=0
# The file `go build -o DIR/` writes for a package: its last path element, or the one before a /vN
# major-version suffix; etcd's server package (go.etcd.io/etcd/server/v3) is installed as "etcd".
gobin() {
  local name; name=$(basename "$(echo "$1" | sed -E 's#/v[0-9]+$##')")
  [ "$name" = server ] && name=etcd
  echo "$name"
}
for dir in tools/k8s/v* tools/etcd/v*; do
  [ -f "$dir/go.mod" ] || continue
  kind=$(basename "$(dirname "$dir")"); version=$(basename "$dir")
  case "$kind/$version" in *"$filter"*) ;; *) continue ;; esac
  out="$root/.cache/bin/$kind/$version"
  mapfile -t tools < <(sed -n 's/^tool //p' "$dir/go.mod")
  missing=(); names=()
  for t in "${tools[@]}"; do
    name=$(gobin "$t")
    $list && echo "$out/$name"
    [ -x "$out/$name" ] || { missing+=("$t"); names+=("$name"); }
  done
  $list && continue
  [ ${#missing[@]} -gt 0 ] || continue
  if [ "$kind" = k8s ]; then
    minor="${version#v1.}"; minor="${minor%%.*}"
    date=$(cd "$dir" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes) \
      || { echo "k8s-binaries: cannot reach the Go module proxy ($(go env GOPROXY)) for k8s.io/kubernetes@$version" >&2; exit 1; }
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitVersion=$version -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date -X $pkg.gitCommit="
    done
  else
    ldflags="-s -w"
  fi
  # A module that builds kubeadm alone (the other minors', for the fidelity tests: `config images list`,
  # `config validate`, the init phases) is compiled without optimizations: behaviour is the same and the
  # cold build takes about half as long.
  gcflags=""
  if [ "${tools[*]}" = "k8s.io/kubernetes/cmd/kubeadm" ]; then gcflags="all=-N -l"; fi
  echo "k8s-binaries: building $kind $version: ${names[*]}${gcflags:+ (gcflags $gcflags)}" >&2
  start=$(date +%s)
  mkdir -p "$out.tmp"
  (cd "$dir" && go build -trimpath -gcflags "$gcflags" -ldflags "$ldflags" -o "$out.tmp/" "${missing[@]}") \
    || { echo "k8s-binaries: go build failed in $dir (is the Go module proxy $(go env GOPROXY) reachable?)" >&2; rm -rf "$out.tmp"; exit 1; }
  mkdir -p "$out"
  [ ! -e "$out.tmp/server" ] || mv -f "$out.tmp/server" "$out.tmp/etcd"
  for f in "$out.tmp"/*; do mv -f "$f" "$out/"; done
  rmdir "$out.tmp"
  echo "k8s-binaries: $kind $version built in $(( $(date +%s) - start )) s" >&2
  built=$((built + 1))
done
$list || echo "k8s-binaries: $built module(s) built; binaries under .cache/bin" >&2
