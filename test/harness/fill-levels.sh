#!/bin/sh
# Runs a bundle install on a nearly full file system at every fill level, for test/installer.test.ts.
# Run it as root in a private mount namespace (unshare --mount --propagation private), so the tmpfs it
# mounts is gone with the namespace:
#
#   sh fill-levels.sh MOUNTPOINT SIZE_KIB OLD_BUNDLE|- NEW_BUNDLE NODE MAX_FREE pages|inodes
#
# Mounts a tmpfs of SIZE_KIB on MOUNTPOINT, installs OLD_BUNDLE (unless -) into MOUNTPOINT/root and keeps
# a copy of that state. Then for N = 0, 1, ... MAX_FREE: restores the old state, leaves N pages free
# (pages: fills the file system with MOUNTPOINT/fill) or N inodes free (inodes: remounts it with that
# many more inodes than are used), installs NEW_BUNDLE into MOUNTPOINT/root and prints
#
#   @level N free=<free pages or inodes before the install> code=<exit code>
#   @err <each line of its stderr>
#   @node <type (f, d, l)> <octal mode> <path below root>      (every entry of the root afterwards)
#   @sum <sha256>  <absolute path>                               (every file of the root afterwards)
#   @end
#
# stopping after the first level whose install exits 0. Each install is bounded by timeout(1).
set -eu
M=$1 SIZE=$2 OLD=$3 NEW=$4 NODE=$5 MAX=$6 KIND=$7
R=$M/root
mount -t tmpfs -o "size=${SIZE}k,mode=0755" hacp-fill-levels "$M"
mkdir -m 0755 "$R"
if [ "$OLD" != - ]; then
  timeout 20 sh "$OLD/install.sh" --root "$R" --node-name "$NODE" >/dev/null
fi
SAVED=$(mktemp -d)
trap 'rm -rf -- "$SAVED" "$SAVED.out" "$SAVED.err"' EXIT
cp -a "$R/." "$SAVED/"

n=0
while [ "$n" -le "$MAX" ]; do
  rm -rf "$R"
  mkdir -m 0755 "$R"
  cp -a "$SAVED/." "$R/"
  rm -f "$M/fill"
  if [ "$KIND" = pages ]; then
    avail=$(stat -f -c %a "$M")
    [ "$avail" -ge "$n" ] || { echo "@error only $avail pages free, wanted $n"; exit 1; }
    dd if=/dev/zero of="$M/fill" bs=4096 count=$((avail - n)) status=none
    free=$(stat -f -c %a "$M")
  else
    mount -o "remount,nr_inodes=$(($(stat -f -c '%c - %d' "$M") + n))" "$M"
    free=$(stat -f -c %d "$M")
  fi
  code=0
  timeout 20 sh "$NEW/install.sh" --root "$R" --node-name "$NODE" >"$SAVED.out" 2>"$SAVED.err" || code=$?
  rm -f "$M/fill"
  if [ "$KIND" = inodes ]; then mount -o remount,nr_inodes=100000 "$M"; fi
  echo "@level $n free=$free code=$code"
  sed 's/^/@err /' "$SAVED.err"
  (cd "$R" && find . -mindepth 1 -printf '@node %y %m %P\n')
  find "$R" -type f -exec sha256sum {} + | sed 's/^/@sum /'
  echo "@end"
  rm -f "$SAVED.out" "$SAVED.err"
  if [ "$code" = 0 ]; then break; fi
  n=$((n + 1))
done
