#!/usr/bin/env bash
# Unpacks Debian unstable's haproxy, nginx (with its stream module) and keepalived, and every shared
# library they load, pinned in scripts/lb-daemons.txt, into .cache/debs/<deb file name>/ — the second
# line the real-daemon config tests run (test/lb-checkers.test.ts; test/harness/lb-daemons.ts), the
# same major.minor as the default images (LB_IMAGES; test/lb-images.test.ts holds them together).
# Nothing is installed: each .deb is only unpacked (dpkg-deb -x), and the tests start the binaries with
# the unpacked dynamic loader and libraries.
#
# Trust: the suite's InRelease is verified with gpgv against Debian's archive keyring; Packages.xz
# must have the SHA256 InRelease gives it; every .deb must have the SHA256 both the pinned list and
# that index give it. Valid-Until is not enforced (a frozen mirror's unstable InRelease expires), so
# the pinned SHA256s are what keeps a replayed old index from changing anything.
# Idempotent: with every package unpacked it does nothing and needs no network. Fails loudly (never
# skips) when the mirror is unreachable or unstable has moved past a pinned version.
# A sibling list works the same way (--list): scripts/runtime-debs.txt pins containerd, the container
# runtime of the real-kubelet lab (test/harness/kubelet-lab.ts); its "# roots:" line names the packages
# whose closure --update pins, and it is merged into .cache/debs/root-<list name> (root-unstable for
# lb-daemons.txt).
#   usage: scripts/fetch-lb-daemons.sh [--list FILE]            unpack what the list pins
#          scripts/fetch-lb-daemons.sh [--list FILE] --update   re-pin the list to what unstable carries now
#   env:   HACP_DEBIAN_MIRROR (default http://deb.debian.org/debian), HACP_DEB_DIR (default .cache/debs)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
list=scripts/lb-daemons.txt
mirror="${HACP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
out="${HACP_DEB_DIR:-$root/.cache/debs}"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
suite=unstable
arch=amd64
# The packages whose dependency closure `--update` pins (a list's "# roots:" line overrides).
roots="haproxy nginx libnginx-mod-stream keepalived"
# Dependencies that hold no library the daemons load (scripts, data, config, tools), as an extended
# regular expression over package names: not pinned. runc is the host's Debian package
# (scripts/test-deps.sh installs it): containerd's shim runs it from PATH.
skip='^(runc|adduser|lsb-base|debconf(-2\.0)?|iproute2|nginx-common|init-system-helpers|perl-base|perl-modules-[0-9.]+|pci\.ids|libsnmp-base|libsensors-config|gcc-[0-9]+-base|libc-gconv-modules-extra|openssl-provider-legacy)$'

die() { echo "fetch-lb-daemons: $*" >&2; exit 1; }
update=false
while [ $# -gt 0 ]; do
  case "$1" in
    --update) update=true ;;
    --list) [ $# -ge 2 ] || die "--list needs a file"; list="$2"; shift ;;
    *) die "unknown argument $1 (usage: scripts/fetch-lb-daemons.sh [--list FILE] [--update])" ;;
  esac
  shift
done
list_roots=$(sed -n 's/^# roots: *//p' "$list" 2>/dev/null | head -1)
[ -z "$list_roots" ] || roots="$list_roots"
host_arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
[ "$host_arch" = "$arch" ] || [ "$host_arch" = x86_64 ] || die "the pinned packages are $arch; this host is $host_arch"
for t in curl gpgv dpkg-deb xz sha256sum awk flock; do command -v "$t" >/dev/null 2>&1 || die "needs $t (Debian: apt-get install curl gpgv dpkg xz-utils coreutils mawk util-linux)"; done

# The pinned list: "package version filename sha256" lines (# comments).
pinned() { grep -v '^[[:space:]]*\(#\|$\)' "$list"; }
dir_of() { local f; f=$(basename "$1"); echo "$out/${f%.deb}"; }
missing() {
  pinned | while read -r pkg ver file sha; do
    [ "$(cat "$(dir_of "$file")/.sha256" 2>/dev/null)" = "$sha" ] || echo "$pkg $ver $file $sha"
  done
}

# One merged tree of every pinned package's /usr and /etc (hard links), which the tests lay over the
# host's in a private mount namespace, so each daemon runs as its image would: its own dynamic loader,
# libraries, module directory and files (keepalived's /etc/keepalived/keepalived.config-opts) at the
# compiled-in paths.
case "$(basename "$list")" in
  lb-daemons.txt) merged="$out/root-$suite" ;;
  *) merged="$out/root-$(basename "$list" .txt)" ;;
esac
list_sha() { sha256sum "$list" | cut -d' ' -f1; }
merged_ok() { [ "$(cat "$merged/.list-sha256" 2>/dev/null)" = "$(list_sha)" ]; }

if ! $update; then
  [ -f "$list" ] || die "$list is missing"
  [ -n "$(missing)" ] || ! merged_ok || exit 0
fi

mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
work=$(mktemp -d "$out/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The signed index of the suite.
get() { curl -fsSL --retry 3 --max-time 600 -o "$2" "$1" || die "cannot download $1 (is $mirror reachable? set HACP_DEBIAN_MIRROR to another Debian mirror)"; }
echo "fetch-lb-daemons: reading $mirror/dists/$suite ($arch)" >&2
get "$mirror/dists/$suite/InRelease" "$work/InRelease"
[ -r "$keyring" ] || die "no Debian archive keyring at $keyring (apt-get install debian-archive-keyring)"
gpgv --keyring "$keyring" "$work/InRelease" >"$work/gpgv.log" 2>&1 \
  || die "$mirror/dists/$suite/InRelease has no good signature by a key in $keyring: $(cat "$work/gpgv.log")"
index_sha=$(awk -v f="main/binary-$arch/Packages.xz" '/^SHA256:/ {s = 1; next} /^[^ ]/ {s = 0} s && $3 == f {print $1}' "$work/InRelease")
[ -n "$index_sha" ] || die "InRelease of $suite lists no main/binary-$arch/Packages.xz"
get "$mirror/dists/$suite/main/binary-$arch/Packages.xz" "$work/Packages.xz"
echo "$index_sha  $work/Packages.xz" | sha256sum -c --quiet - >/dev/null 2>&1 || die "Packages.xz of $suite does not have the SHA256 its signed InRelease gives"
xz -dc "$work/Packages.xz" >"$work/Packages"
echo "fetch-lb-daemons: $suite index signed $(sed -n 's/^Date: //p' "$work/InRelease" | head -1)" >&2

# One line per stanza: "package version filename sha256 depends|provides".
awk 'BEGIN { RS = ""; FS = "\n" }
{
  p = v = f = h = d = pv = ""
  for (i = 1; i <= NF; i++) {
    if ($i ~ /^Package: /) p = substr($i, 10)
    else if ($i ~ /^Version: /) v = substr($i, 10)
    else if ($i ~ /^Filename: /) f = substr($i, 11)
    else if ($i ~ /^SHA256: /) h = substr($i, 9)
    else if ($i ~ /^(Pre-)?Depends: /) { x = $i; sub(/^(Pre-)?Depends: /, "", x); d = d (d == "" ? "" : ", ") x }
    else if ($i ~ /^Provides: /) pv = substr($i, 11)
  }
  gsub(/ /, "", d); gsub(/ /, "", pv)
  print p, v, f, h, d "|" pv
}' "$work/Packages" >"$work/index"

if $update; then
  # The Depends/Pre-Depends closure of $roots (first alternative; a virtual package by its first
  # provider), minus what $skip matches.
  ROOTS="$roots" SKIP="$skip" awk '
  { ver[$1] = $2; file[$1] = $3; sha[$1] = $4; split($5, dp, "|"); deps[$1] = dp[1]
    k = split(dp[2], pp, ","); for (j = 1; j <= k; j++) { q = pp[j]; sub(/\(.*/, "", q); if (q != "" && !(q in prov)) prov[q] = $1 } }
  END {
    SKIP = ENVIRON["SKIP"]  # not -v, which would take the backslashes as escapes
    n = split(ENVIRON["ROOTS"], r, " "); for (i = 1; i <= n; i++) queue[++qt] = r[i]
    while (qh < qt) {
      x = queue[++qh]
      if (x ~ SKIP) continue
      if (!(x in ver)) { if (x in prov) x = prov[x]; else { print "fetch-lb-daemons: no package or provider " x > "/dev/stderr"; bad = 1; continue } }
      if (x in seen || x ~ SKIP) continue
      seen[x] = 1; out[++no] = x
      k = split(deps[x], dd, ",")
      for (j = 1; j <= k; j++) { a = dd[j]; sub(/\|.*/, "", a); sub(/\(.*/, "", a); sub(/:any$/, "", a); if (a != "") queue[++qt] = a }
    }
    for (i = 1; i <= no; i++) print out[i], ver[out[i]], file[out[i]], sha[out[i]]
    exit bad
  }' "$work/index" >"$work/pins" || die "cannot resolve the dependencies of $roots in $suite"
  {
    # The list's own comments are kept; only the "Generated by" line is renewed.
    awk '/^#/ { if ($0 ~ /^# Generated by /) { print gen; done = 1 } else print; next } { exit } END { if (!done) print gen }' \
      gen="# Generated by \`bash scripts/fetch-lb-daemons.sh$([ "$list" = scripts/lb-daemons.txt ] || echo " --list $list") --update\` from the $arch index signed $(sed -n 's/^Date: //p' "$work/InRelease" | head -1)." "$list" 2>/dev/null
    cat "$work/pins"
  } >"$list.tmp"
  mv -f "$list.tmp" "$list"
  echo "fetch-lb-daemons: pinned $(wc -l <"$work/pins") packages in $list:" >&2
  awk -v r=" $roots " 'index(r, " " $1 " ") { print "  " $1 " " $2 }' "$work/pins" >&2
fi

mapfile -t todo < <(missing)
n=0
for entry in "${todo[@]}"; do
  read -r pkg ver file sha <<<"$entry"
  if ! grep -qF "$pkg $ver $file $sha " "$work/index"; then
    have=$(awk -v p="$pkg" '$1 == p {print $2, $4}' "$work/index" | head -1)
    if [ "${have%% *}" = "$ver" ]; then
      die "the signed $suite index gives $pkg $ver the SHA256 ${have#* }, $list gives $sha: fix $list (\`bash scripts/fetch-lb-daemons.sh --update\` rewrites it)"
    fi
    die "Debian $suite no longer carries $pkg $ver (it has ${have%% *}): run \`bash scripts/fetch-lb-daemons.sh --update\`, commit $list and keep LB_IMAGES on the same major.minor"
  fi
  get "$mirror/$file" "$work/pkg.deb"
  echo "$sha  $work/pkg.deb" | sha256sum -c --quiet - >/dev/null 2>&1 || die "$mirror/$file does not have the SHA256 $sha that $list and the signed index give"
  dest=$(dir_of "$file")
  rm -rf "$dest.tmp"
  dpkg-deb -x "$work/pkg.deb" "$dest.tmp" || die "dpkg-deb -x $file failed"
  echo "$sha" >"$dest.tmp/.sha256"
  rm -rf "$dest"
  mv -T "$dest.tmp" "$dest"
  n=$((n + 1))
done
[ -z "$(missing)" ] || die "some pinned packages are still not unpacked under $out"
if ! merged_ok; then
  rm -rf "$merged.tmp"
  mkdir -p "$merged.tmp/usr" "$merged.tmp/etc"
  pinned | while read -r _ _ file _; do
    for d in usr etc; do
      [ ! -d "$(dir_of "$file")/$d" ] || cp -al "$(dir_of "$file")/$d/." "$merged.tmp/$d/" || die "cannot merge $(dir_of "$file")/$d into $merged.tmp"
    done
  done
  # What libnginx-mod-stream's postinst does: enable the module for nginx.conf's include.
  if pinned | grep -q '^libnginx-mod-stream '; then
    mkdir -p "$merged.tmp/etc/nginx/modules-enabled"
    ln -s /usr/share/nginx/modules-available/mod-stream.conf "$merged.tmp/etc/nginx/modules-enabled/50-mod-stream.conf"
  fi
  list_sha >"$merged.tmp/.list-sha256"
  rm -rf "$merged"
  mv -T "$merged.tmp" "$merged"
fi
echo "fetch-lb-daemons: $n package(s) unpacked; $(pinned | wc -l) pinned packages under $out, merged in $merged" >&2
