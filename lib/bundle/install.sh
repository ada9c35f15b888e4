#!/bin/sh
# Installs one node's bundle made by cdk8s-ha-control-plane (`ha-control-plane bundle`) onto this host,
# or under --root DIR. The bundle directory holds this script, NODE and CLUSTER (whose bundle it is),
# FILES (what to install: directories and files with their modes and SHA-256, host files before
# manifests), SHA256SUMS (of every other file of the bundle) and files/ (the node's root filesystem).
#
# usage: sh install.sh [--root DIR] [--dry-run] [--node-name NAME]
#
# What it guarantees:
#   - nothing is written unless every checksum matches and the bundle is for this node;
#   - host files are installed before manifests (a pod's config exists before the pod);
#   - every file is written as a dot-prefixed temporary file in its own directory, given its mode and
#     flushed, then renamed over the target, so the kubelet never sees a partial or extra manifest
#     (it ignores dot files); temporary files of an interrupted run are removed by the next one;
#   - a replaced file is first copied to /var/lib/ha-control-plane/backup/<UTC time>/<path>, outside
#     the manifests directory;
#   - a second run changes nothing and makes no backup; files that are not in the bundle are left alone.
#
# Exit codes:
#   0  installed, or nothing to change (also the end of a --dry-run)
#   1  damaged or unsafe bundle: a checksum mismatch, a missing or unlisted file, a bad path or mode
#   2  usage error
#   3  wrong node: the bundle is for another node
#   4  cannot run here: not root (without --root), a missing tool, another install running, a target
#      that is a directory
#   5  a write failed midway: what was written is complete, the rest untouched; fix the cause and rerun
set -eu
umask 077

PROG=install.sh
MANIFESTS=etc/kubernetes/manifests
NL='
'

say() { printf '%s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
  code=$1
  shift
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit "$code"
}

usage() {
  cat <<'EOF'
usage: sh install.sh [--root DIR] [--dry-run] [--node-name NAME]

Installs this node's bundle: verifies SHA256SUMS, checks the node name, writes host files first and
static pod manifests last, each atomically, backing up replaced files to
/var/lib/ha-control-plane/backup/<time>/.

  --root DIR        install under DIR instead of / (no root needed)
  --dry-run, -n     print a unified diff of what would change; write nothing
  --node-name NAME  this host's node name (default: the hostname, lower-cased)
  --help, -h        print this help

exit codes: 0 done or nothing to do, 1 damaged bundle, 2 usage, 3 wrong node, 4 cannot run here,
5 write failed midway (rerun after fixing the cause)
EOF
}

usage_error() {
  printf '%s: error: %s\nrun "sh install.sh --help" for usage\n' "$PROG" "$*" >&2
  exit 2
}

ROOT=
ROOT_GIVEN=0
DRY_RUN=0
NODE_NAME=
while [ $# -gt 0 ]; do
  case $1 in
    --root)
      [ $# -ge 2 ] || usage_error "--root needs a directory"
      ROOT=$2 ROOT_GIVEN=1
      shift 2
      ;;
    --root=*) ROOT=${1#--root=} ROOT_GIVEN=1; shift ;;
    --node-name)
      [ $# -ge 2 ] || usage_error "--node-name needs a name"
      NODE_NAME=$2
      shift 2
      ;;
    --node-name=*) NODE_NAME=${1#--node-name=}; shift ;;
    --dry-run | -n) DRY_RUN=1; shift ;;
    --help | -h) usage; exit 0 ;;
    *) usage_error "unknown argument \"$1\" (the options are --root DIR, --dry-run, --node-name NAME, --help)" ;;
  esac
done

if [ "$ROOT_GIVEN" = 1 ]; then
  [ -n "$ROOT" ] || usage_error "--root needs a directory (use --root / for this host)"
  [ -d "$ROOT" ] || usage_error "--root \"$ROOT\" is not a directory (fix: create it first)"
  ROOT=$(cd -- "$ROOT" && pwd -P)
  [ "$ROOT" != / ] || ROOT=
fi

for tool in sha256sum cat chmod cp date dirname id ln mkdir mktemp mv rm sleep stat sync tr uname; do
  command -v "$tool" >/dev/null 2>&1 || die 4 "\"$tool\" is not installed (fix: install coreutils)"
done
HAVE_DIFF=0
if command -v diff >/dev/null 2>&1; then HAVE_DIFF=1; fi

if [ "$ROOT_GIVEN" = 0 ] && [ "$(id -u)" != 0 ]; then
  die 4 "installing into / needs root (fix: run it with sudo, or pass --root DIR to install under DIR)"
fi

# The bundle is the directory of this script.
BUNDLE=$(cd -- "$(dirname -- "$0")" && pwd -P)
cd -- "$BUNDLE"

# --- 1. verify the bundle -------------------------------------------------------------------------
for f in SHA256SUMS NODE CLUSTER VERSION FILES install.sh; do
  [ -f "$f" ] || die 1 "$BUNDLE/$f is missing (fix: extract the whole tarball again, e.g. tar -xzf <node>.tar.gz)"
done
if ! sums=$(sha256sum -c --strict SHA256SUMS 2>&1); then
  printf '%s\n' "$sums" | while IFS= read -r line; do
    case $line in *': OK') ;; *) printf '  %s\n' "$line" >&2 ;; esac
  done
  die 1 "the bundle in $BUNDLE does not match its SHA256SUMS (the files above); it was damaged or changed after it was made; nothing was written (fix: copy the tarball again and check it with \"sha256sum -c SHA256SUMS\" beside the tarballs)"
fi
SUMS=$(cat SHA256SUMS)
listed() { # path sha256: whether SHA256SUMS (just verified) has exactly that line
  case "$NL$SUMS$NL" in *"$NL$2  $1$NL"*) return 0 ;; *) return 1 ;; esac
}
for f in NODE CLUSTER VERSION FILES install.sh; do
  sum=$(sha256sum <"$f")
  listed "$f" "${sum%% *}" || die 1 "$f is not covered by SHA256SUMS; the bundle was changed after it was made (fix: copy the tarball again)"
done
EXPECTED=$(cat NODE)
CLUSTER=$(cat CLUSTER)
MADE_BY=$(cat VERSION)

# Checks every line of FILES before anything is written: kinds, modes, checksums and paths.
while read -r kind mode sum path; do
  case $kind in
    '#'* | '') continue ;;
    d | f) ;;
    *) die 1 "FILES: unknown entry \"$kind $mode $sum $path\" (fix: make the bundle again with ha-control-plane bundle)" ;;
  esac
  case $mode in 0[0-7][0-7][0-7]) ;; *) die 1 "FILES: bad mode \"$mode\" for $path" ;; esac
  case $path in '' | /* | -*) die 1 "FILES: unsafe path \"$path\" (must be relative)" ;; esac
  case /$path/ in */../* | */./* | *//*) die 1 "FILES: unsafe path \"$path\"" ;; esac
  if [ "$kind" = f ]; then
    listed "files/$path" "$sum" || die 1 "files/$path does not match its checksum in FILES, or SHA256SUMS does not cover it (fix: copy the tarball again)"
    case $path in "$MANIFESTS"/.*) die 1 "FILES: $path is a dot file in the manifests directory" ;; esac
  fi
done <FILES

# --- 2. the right node? ---------------------------------------------------------------------------
if [ -n "$NODE_NAME" ]; then
  ACTUAL=$NODE_NAME
  SOURCE="--node-name"
else
  ACTUAL=$( (hostname 2>/dev/null || uname -n) | tr '[:upper:]' '[:lower:]')
  SOURCE=hostname
fi
if [ "$ACTUAL" != "$EXPECTED" ]; then
  die 3 "this bundle is for node \"$EXPECTED\" (cluster $CLUSTER), but this host is \"$ACTUAL\" ($SOURCE); nothing was written (fix: install the bundle of \"$ACTUAL\" here, or pass --node-name $EXPECTED if this host really is $EXPECTED under another hostname)"
fi

# --- helpers --------------------------------------------------------------------------------------
STATE=$ROOT/var/lib/ha-control-plane
LOCK=$STATE/install.lock
LOCKED=0
TMPF=
BACKUP=
RENAMES=0
WRITES=0
CREATED=0
REPLACED=0
REMODED=0
UNCHANGED=0
DIRS=0
SYSTEMD_CHANGED=0
SYSCTL_CHANGED=0

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [ -n "$TMPF" ]; then rm -f -- "$TMPF"; fi
  if [ "$LOCKED" = 1 ]; then rm -f -- "$LOCK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# octal mode of an existing path, e.g. 0600 (following a symbolic link)
mode_of() {
  m=$(stat -L -c %a -- "$1")
  printf '0%03o' "$((0$m & 07777))"
}

# Creates the missing directories of a relative path under ROOT: the last one with mode $2, the
# others with $3 (default 0755).
make_dirs() {
  rel=$1 cur=$ROOT last_mode=$2 up_mode=${3:-0755}
  old_ifs=$IFS
  IFS=/
  set -f
  # shellcheck disable=SC2086 # split on / on purpose
  set -- $rel
  set +f
  IFS=$old_ifs
  while [ $# -gt 0 ]; do
    cur=$cur/$1
    shift
    if [ ! -d "$cur" ]; then
      if [ $# -gt 0 ]; then m=$up_mode; else m=$last_mode; fi
      mkdir -m "$m" -- "$cur" || die 5 "cannot create $cur"
    fi
  done
}

# Takes the install lock (a hard link, so creating it is atomic); a lock whose process is gone is stale.
lock() {
  make_dirs var/lib/ha-control-plane 0700
  tmp=$(mktemp "$STATE/.install.lock.XXXXXX") || die 5 "cannot write in $STATE"
  printf '%s\n' "$$" >"$tmp"
  tries=0
  while ! ln -- "$tmp" "$LOCK" 2>/dev/null; do
    pid=$(cat -- "$LOCK" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      rm -f -- "$tmp"
      die 4 "another install is running (pid $pid, lock $LOCK) (fix: wait for it to finish; if no installer runs, remove $LOCK)"
    fi
    tries=$((tries + 1))
    [ "$tries" -lt 5 ] || { rm -f -- "$tmp"; die 4 "cannot take the lock $LOCK (fix: remove it if no installer runs)"; }
    rm -f -- "$LOCK"
  done
  rm -f -- "$tmp"
  LOCKED=1
  # lock candidates of runs that were killed while taking the lock
  for t in "$STATE"/.install.lock.??????; do
    if [ -f "$t" ]; then rm -f -- "$t"; fi
  done
}

# Removes the temporary files an interrupted run left in the bundle's directories.
remove_stale_temps() {
  while read -r kind _mode _sum path; do
    if [ "$kind" != d ] || [ ! -d "$ROOT/$path" ]; then continue; fi
    for t in "$ROOT/$path"/.*.hacp-??????; do
      if [ -f "$t" ] && [ ! -L "$t" ]; then rm -f -- "$t" && say "removed $t (left by an interrupted run)"; fi
    done
  done <FILES
}

# Copies a file about to be replaced to the backup directory (made on first use: a run that replaces
# nothing leaves no backup).
backup() {
  if [ -z "$BACKUP" ]; then
    make_dirs var/lib/ha-control-plane/backup 0700
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    BACKUP=$STATE/backup/$stamp
    n=1
    while ! mkdir -m 0700 -- "$BACKUP" 2>/dev/null; do
      n=$((n + 1))
      [ "$n" -le 100 ] || die 5 "cannot create a backup directory in $STATE/backup"
      BACKUP=$STATE/backup/$stamp-$n
    done
  fi
  dir=${1%/*}
  rel_backup=${BACKUP#"$ROOT"/}
  make_dirs "$rel_backup/$dir" 0700 0700
  if ! cp -pP -- "$ROOT/$1" "$BACKUP/$1.partial" || ! mv -f -- "$BACKUP/$1.partial" "$BACKUP/$1"; then
    die 5 "cannot back up $ROOT/$1 to $BACKUP (it was not replaced; fix: free space in $STATE and rerun)"
  fi
}

# For the tests of interrupted installs (HA_INSTALL_TEST_PAUSE_AFTER=N: after the N-th rename;
# HA_INSTALL_TEST_PAUSE_IN=N: inside the N-th write, its temporary file written, not yet renamed):
# says so on stderr, then waits up to 60 s in 1 s steps, so a signal's trap runs within a second.
test_pause() { # $1: the counter, $2: the variable's value, $3: what happened
  if [ -n "$2" ] && [ "$1" = "$2" ]; then
    printf '%s: test pause after %s %s\n' "$PROG" "$1" "$3" >&2
    waited=0
    while [ "$waited" -lt 60 ]; do
      sleep 1
      waited=$((waited + 1))
    done
    die 5 "test pause expired"
  fi
}

# Writes files/$3 to ROOT/$3: a dot-prefixed temporary file in the target's directory, mode set and
# flushed, then renamed over the target.
write_file() { # mode sum path
  dst=$ROOT/$3
  dir=${dst%/*}
  base=${dst##*/}
  TMPF=$(mktemp "$dir/.$base.hacp-XXXXXX") || die 5 "cannot create a temporary file in $dir"
  cat -- "files/$3" >"$TMPF" || die 5 "cannot write $TMPF"
  chmod "$1" "$TMPF" || die 5 "cannot chmod $TMPF"
  sync -- "$TMPF" 2>/dev/null || sync
  WRITES=$((WRITES + 1))
  test_pause "$WRITES" "${HA_INSTALL_TEST_PAUSE_IN:-}" "temporary file(s) written"
  mv -f -- "$TMPF" "$dst" || die 5 "cannot rename $TMPF to $dst"
  TMPF=
  RENAMES=$((RENAMES + 1))
  test_pause "$RENAMES" "${HA_INSTALL_TEST_PAUSE_AFTER:-}" "rename(s)"
}

# Remembers what a changed file needs after the install (the installer restarts nothing itself).
note_change() { # path
  case $1 in
    etc/systemd/*) SYSTEMD_CHANGED=1 ;;
    etc/sysctl.d/*) SYSCTL_CHANGED=1 ;;
  esac
}

show_diff() { # old new label
  if [ "$HAVE_DIFF" = 1 ]; then
    rc=0
    diff -u -L "$1" -L "$3 (bundle)" -- "$1" "$2" || rc=$?
    [ "$rc" -le 1 ] || warn "diff failed for $3"
  else
    say "(diff is not installed: install diffutils to see the changes of $3)"
  fi
}

# Installs (or, in a dry run, describes) one file entry.
one_file() { # mode sum path
  dst=$ROOT/$3
  if [ ! -e "$dst" ] && [ ! -L "$dst" ]; then
    CREATED=$((CREATED + 1))
    if [ "$DRY_RUN" = 1 ]; then
      say "would create $dst ($1)"
      show_diff /dev/null "files/$3" "$dst"
    else
      write_file "$@"
      note_change "$3"
      say "created $dst ($1)"
    fi
    return
  fi
  if [ ! -e "$dst" ]; then
    cur_mode=none # a dangling symbolic link: replaced like a changed file
  else
    cur_mode=$(mode_of "$dst")
  fi
  cur_sum=
  if [ "$cur_mode" != none ]; then
    cur_sum=$(sha256sum <"$dst")
    cur_sum=${cur_sum%% *}
  fi
  if [ "$cur_sum" = "$2" ]; then
    if [ "$cur_mode" = "$1" ]; then
      UNCHANGED=$((UNCHANGED + 1))
      return
    fi
    REMODED=$((REMODED + 1))
    if [ "$DRY_RUN" = 1 ]; then
      say "would change the mode of $dst: $cur_mode -> $1"
    else
      chmod "$1" -- "$dst" || die 5 "cannot chmod $dst"
      say "mode of $dst: $cur_mode -> $1"
    fi
    return
  fi
  REPLACED=$((REPLACED + 1))
  if [ "$DRY_RUN" = 1 ]; then
    if [ "$cur_mode" = "$1" ]; then say "would replace $dst"; else say "would replace $dst (mode $cur_mode -> $1)"; fi
    show_diff "$dst" "files/$3" "$dst"
  else
    backup "$3"
    write_file "$@"
    note_change "$3"
    say "replaced $dst ($1; the old one is in $BACKUP/$3)"
  fi
}

# --- 3. install -----------------------------------------------------------------------------------
# What would block the install is found before anything is written: a file where the bundle has a
# directory, or a directory where it has a file.
while read -r kind _mode _sum path; do
  dst=$ROOT/$path
  case $kind in
    d) if { [ -e "$dst" ] || [ -L "$dst" ]; } && [ ! -d "$dst" ]; then die 4 "$dst is not a directory, where the bundle has one; nothing was written (fix: move it away and rerun)"; fi ;;
    f) if [ -d "$dst" ] && [ ! -L "$dst" ]; then die 4 "$dst is a directory, where the bundle has a file; nothing was written (fix: move it away and rerun)"; fi ;;
  esac
done <FILES

TARGET=${ROOT:-/}
if [ "$DRY_RUN" = 1 ]; then
  say "dry run: bundle of $EXPECTED (cluster $CLUSTER, made by $MADE_BY) against $TARGET; nothing is written"
else
  say "installing the bundle of $EXPECTED (cluster $CLUSTER, made by $MADE_BY) into $TARGET"
  lock
  remove_stale_temps
fi

# Directories, parents first; existing ones are left as they are.
while read -r kind mode _sum path; do
  [ "$kind" = d ] || continue
  dst=$ROOT/$path
  if [ -d "$dst" ]; then
    cur_mode=$(mode_of "$dst")
    if [ "$cur_mode" != "$mode" ]; then warn "$dst has mode $cur_mode, the bundle's is $mode (an existing directory is left as it is: chmod $mode $dst if you want it)"; fi
    continue
  fi
  DIRS=$((DIRS + 1))
  if [ "$DRY_RUN" = 1 ]; then
    say "would create directory $dst ($mode)"
  else
    mkdir -m "$mode" -- "$dst" || die 5 "cannot create $dst"
    say "created directory $dst ($mode)"
  fi
done <FILES

# Host files first, then the manifests.
for pass in host manifests; do
  while read -r kind mode sum path; do
    [ "$kind" = f ] || continue
    case $path in
      "$MANIFESTS"/*) [ "$pass" = manifests ] || continue ;;
      *) [ "$pass" = host ] || continue ;;
    esac
    one_file "$mode" "$sum" "$path"
  done <FILES
done

# Manifests the kubelet runs that this bundle does not own: left alone, but said.
BUNDLE_MANIFESTS=$(while read -r kind _m _s path; do [ "$kind" = f ] && printf '%s\n' "$path"; done <FILES)
for m in "$ROOT/$MANIFESTS"/*; do
  [ -e "$m" ] || [ -L "$m" ] || continue
  case "$NL$BUNDLE_MANIFESTS$NL" in
    *"$NL$MANIFESTS/${m##*/}$NL"*) ;;
    *) warn "$m is not in this bundle; the kubelet runs it too (left alone: move it out of the directory if it is obsolete)" ;;
  esac
done

CHANGES=$((DIRS + CREATED + REPLACED + REMODED))
if [ "$DRY_RUN" = 1 ]; then
  if [ "$CHANGES" = 0 ]; then
    say "no changes: $TARGET already has this bundle ($UNCHANGED files up to date)"
  else
    say "would change: $DIRS directories created, $CREATED files created, $REPLACED replaced, $REMODED modes changed, $UNCHANGED unchanged; nothing was written"
  fi
elif [ "$CHANGES" = 0 ]; then
  say "no changes: $TARGET already has this bundle ($UNCHANGED files up to date)"
else
  say "done: $DIRS directories created, $CREATED files created, $REPLACED replaced, $REMODED modes changed, $UNCHANGED unchanged${BACKUP:+; backups in $BACKUP}"
  if [ "$SYSTEMD_CHANGED" = 1 ]; then say "next: systemd units changed; run: systemctl daemon-reload && systemctl restart kubelet"; fi
  if [ "$SYSCTL_CHANGED" = 1 ]; then say "next: sysctl settings changed; run: sysctl --system"; fi
fi
exit 0
