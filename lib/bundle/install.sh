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
#   - all or nothing when a write fails (e.g. the disk is full): every new file and every backup is
#     first staged (written and flushed with fsync) as a dot-prefixed temporary file in its own
#     directory (the kubelet ignores dot files); a failed write removes everything staged and changes
#     nothing (exit 5); only then are the changes made, each a rename, chmod or unlink that needs no
#     space;
#   - the changes in this order: host files (a pod's config exists before the pod), the manifests
#     replaced, the manifests that leave, the new manifests (a pod that leaves is gone before the one
#     replacing it comes: they never bind the same port together), the host files that leave (their
#     pods are gone by then), the record;
#   - a replaced file is kept in /var/lib/ha-control-plane/backup/<UTC time>/<path>, outside the
#     manifests directory;
#   - the files a bundle installed are recorded in /var/lib/ha-control-plane/installed/<cluster>.files;
#     those the last bundle of the same cluster installed and this one lacks (e.g. haproxy.yaml after
#     switching to nginx) are moved to the backup; files no bundle of this cluster installed are left
#     alone (a manifest among them is warned about);
#   - temporary files of an interrupted run are removed by the next one; a second run changes nothing
#     and makes no backup.
#
# Exit codes:
#   0  installed, or nothing to change (also the end of a --dry-run)
#   1  damaged or unsafe bundle: a checksum mismatch, a missing or unlisted file, a bad path or mode
#   2  usage error
#   3  wrong node: the bundle is for another node
#   4  cannot run here: not root (without --root), a missing tool, another install running, a target
#      that is a directory
#   5  nothing changed: a write failed before the first change (e.g. no space left); what was staged is
#      removed and the node is as it was; fix the cause and rerun
#   6  stopped midway: a change (rename, chmod, removal) failed after others were made; the message
#      lists what is in place and what is not; fix the cause and rerun to complete, or restore from the
#      backup directory it names
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

Installs this node's bundle: verifies SHA256SUMS, checks the node name, stages (writes and flushes)
every new file and backup, then renames them in place: host files first, static pod manifests last.
Replaced files, and files the last bundle of this cluster installed that this one lacks, are moved to
/var/lib/ha-control-plane/backup/<time>/.

  --root DIR        install under DIR instead of / (no root needed)
  --dry-run, -n     print a unified diff of what would change; write nothing
  --node-name NAME  this host's node name (default: the hostname, lower-cased)
  --help, -h        print this help

exit codes: 0 done or nothing to do, 1 damaged bundle, 2 usage, 3 wrong node, 4 cannot run here,
5 a write failed, nothing changed (fix the cause, rerun), 6 stopped midway (fix the cause, rerun)
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

for tool in sha256sum cat chmod cp date dirname id ln mkdir mktemp mv rm rmdir sleep stat sync tr uname wc; do
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
case $CLUSTER in '' | .* | *[!A-Za-z0-9._-]*) die 1 "CLUSTER: bad cluster name \"$CLUSTER\" (fix: make the bundle again with ha-control-plane bundle)" ;; esac
MADE_BY=$(cat VERSION)

# Whether a path (from FILES or a record) is relative and stays below the root.
safe_path() {
  case $1 in '' | /* | -*) return 1 ;; esac
  case /$1/ in */../* | */./* | *//*) return 1 ;; esac
  return 0
}

# Checks every line of FILES before anything is written: kinds, modes, checksums and paths.
while read -r kind mode sum path; do
  case $kind in
    '#'* | '') continue ;;
    d | f) ;;
    *) die 1 "FILES: unknown entry \"$kind $mode $sum $path\" (fix: make the bundle again with ha-control-plane bundle)" ;;
  esac
  case $mode in 0[0-7][0-7][0-7]) ;; *) die 1 "FILES: bad mode \"$mode\" for $path" ;; esac
  safe_path "$path" || die 1 "FILES: unsafe path \"$path\" (must be relative, without . or .. parts)"
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
RECORD=$STATE/installed/$CLUSTER.files
LOCKED=0
STAGED=       # temporary files written and not yet renamed, one a line
NEW_DIRS=     # directories this run created, in the order it created them
BACKUP_STAGE= # the backup directory while it is staged (a dot directory, renamed to BACKUP first)
BACKUP=
STAMP=
STARTED=0     # 1 once the first change is made: from then on a failure is exit 6, not 5
PLAN=         # what to change, in order, one "op arg path" a line (op: create, replace, chmod, remove)
COMMIT=       # PLAN with the staged temporary files, plus the record last
WRITES=0
CHANGED=0
CREATED=0
REPLACED=0
REMODED=0
REMOVED=0
UNCHANGED=0
DIRS=0
SYSTEMD_CHANGED=0
SYSCTL_CHANGED=0
SYSCTL_REMOVED= # sysctl files removed: their settings stay in the running kernel

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  old_ifs=$IFS
  IFS=$NL
  set -f
  for t in $STAGED; do rm -f -- "$t" || true; done
  STAGED=
  if [ "$STARTED" = 0 ]; then
    # Nothing was changed: remove what this run made, so the node is as it was.
    if [ -n "$BACKUP_STAGE" ]; then rm -rf -- "$BACKUP_STAGE" || true; fi
    if [ "$LOCKED" = 1 ]; then rm -f -- "$LOCK" || true; LOCKED=0; fi
    rev=
    for d in $NEW_DIRS; do rev=$d$NL$rev; done
    for d in $rev; do rmdir -- "$d" 2>/dev/null || true; done
  fi
  set +f
  IFS=$old_ifs
  if [ "$LOCKED" = 1 ]; then rm -f -- "$LOCK" || true; fi
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

# sha256 of an existing file
sum_of() {
  s=$(sha256sum <"$1")
  printf '%s' "${s%% *}"
}

# Flushes a written file to disk (fsync; its write errors show here on file systems that allocate late).
SYNC_FILES=0
if sync -- "$BUNDLE/FILES" 2>/dev/null; then SYNC_FILES=1; fi
flush() {
  if [ "$SYNC_FILES" = 1 ]; then sync -- "$1"; else sync; fi
}

# A failure before the first change: the EXIT trap removes everything staged, so nothing changed.
stage_fail() { # what failed
  die 5 "$1; nothing changed: the files staged so far were removed and the node is as it was (fix: free space$(space_hint), or fix what the message above names, and rerun)"
}

# What the install needs free, once planned: a 4 KiB block for the lock and one for the record, and
# the blocks of the new files and of the backups of the files it replaces or removes.
space_hint() {
  if [ -z "$PLAN" ]; then return; fi
  blocks=2
  old_ifs=$IFS
  IFS=$NL
  set -f
  for line in $PLAN; do
    op=${line%% *} rest=${line#* }
    p=${rest#* }
    case $op in
      create | replace) n=$(wc -c <"files/$p") && blocks=$((blocks + (n + 4095) / 4096)) ;;
    esac
    case $op in
      replace | remove) n=$(wc -c 2>/dev/null <"$ROOT/$p") && blocks=$((blocks + (n + 4095) / 4096)) ;;
    esac
  done
  set +f
  IFS=$old_ifs
  printf ': the install needs about %s KiB (in 4 KiB blocks: the new files, the backups of those it replaces or removes, the lock and the record)' "$((blocks * 4))"
}

# Creates the missing directories of a relative path under a base: the last one with mode $3, the
# others with $4 (default 0755). Each one made is remembered, to be removed if nothing is installed.
make_dirs() { # base rel last_mode [up_mode]
  cur=$1 rel=$2 last_mode=$3 up_mode=${4:-0755}
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
      mkdir -m "$m" -- "$cur" || stage_fail "cannot create the directory $cur"
      NEW_DIRS=$NEW_DIRS$cur$NL
    fi
  done
}

# Takes the install lock (a hard link, so creating it is atomic); a lock whose process is gone is stale.
lock() {
  make_dirs "$ROOT" var/lib/ha-control-plane 0700
  tmp=$(mktemp "$STATE/.install.lock.XXXXXX") || stage_fail "cannot create a file in $STATE"
  if ! printf '%s\n' "$$" >"$tmp"; then
    rm -f -- "$tmp"
    stage_fail "cannot write the lock $tmp"
  fi
  tries=0
  while ! err=$(ln -- "$tmp" "$LOCK" 2>&1); do
    if [ ! -e "$LOCK" ] && [ ! -L "$LOCK" ]; then # not taken: the link itself failed (e.g. no inode left)
      rm -f -- "$tmp"
      stage_fail "cannot create the lock $LOCK (${err##*: })"
    fi
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

# Reads the files the last install of this cluster put on this node (its record), one path a line.
RECORDED=
read_record() {
  if [ ! -f "$RECORD" ]; then return; fi
  while read -r kind _mode _sum path; do
    [ "$kind" = f ] || continue
    if safe_path "$path"; then RECORDED=$RECORDED$path$NL; else warn "$RECORD: unsafe path \"$path\" ignored"; fi
  done <"$RECORD"
}
BUNDLE_FILES=$(while read -r kind _m _s path; do if [ "$kind" = f ]; then printf '%s\n' "$path"; fi; done <FILES)
in_bundle() { case "$NL$BUNDLE_FILES$NL" in *"$NL$1$NL"*) return 0 ;; *) return 1 ;; esac; }

# Removes what an interrupted run left: temporary files in the bundle's (and the last bundle's)
# directories, a staged backup directory, a staged record.
remove_stale_temps() {
  dirs=$(
    while read -r kind _mode _sum path; do if [ "$kind" = d ]; then printf '%s\n' "$path"; fi; done <FILES
    printf '%s' "$RECORDED" | while IFS= read -r p; do case $p in */*) printf '%s\n' "${p%/*}" ;; esac; done
    printf '%s\n' var/lib/ha-control-plane/installed
  )
  old_ifs=$IFS
  IFS=$NL
  for d in $dirs; do
    IFS=$old_ifs
    [ -d "$ROOT/$d" ] || continue
    for t in "$ROOT/$d"/.*.hacp-??????; do
      if [ -f "$t" ] && [ ! -L "$t" ]; then rm -f -- "$t" && say "removed $t (left by an interrupted run)"; fi
    done
  done
  IFS=$old_ifs
  for t in "$STATE"/backup/.*.hacp-??????; do
    if [ -d "$t" ] && [ ! -L "$t" ]; then rm -rf -- "$t" && say "removed $t (a backup staged by an interrupted run that changed nothing)"; fi
  done
}

# For the tests of interrupted installs (HA_INSTALL_TEST_PAUSE_IN=N: after the N-th file is staged,
# written and flushed, before any change; HA_INSTALL_TEST_PAUSE_AFTER=N: after the N-th change):
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

# Stages a new file: files/$3 written to a dot-prefixed temporary file in the target's directory (the
# kubelet ignores dot files), mode set, flushed. Sets SUFFIX, the temporary file's random part.
stage_file() { # mode sum path
  dst=$ROOT/$3
  dir=${dst%/*}
  base=${dst##*/}
  t=$(mktemp "$dir/.$base.hacp-XXXXXX") || stage_fail "cannot create a temporary file in $dir"
  STAGED=$STAGED$t$NL
  cat -- "files/$3" >"$t" || stage_fail "cannot write $t"
  chmod "$1" -- "$t" || stage_fail "cannot chmod $t"
  flush "$t" || stage_fail "cannot flush $t to disk"
  SUFFIX=${t##*.hacp-}
  WRITES=$((WRITES + 1))
  test_pause "$WRITES" "${HA_INSTALL_TEST_PAUSE_IN:-}" "file(s) staged"
}

# Stages the backup of a file about to be replaced or removed: a copy in the staged backup directory
# (made on first use: a run that replaces nothing leaves no backup), flushed.
stage_backup() { # path
  if [ -z "$BACKUP_STAGE" ]; then
    make_dirs "$ROOT" var/lib/ha-control-plane/backup 0700
    STAMP=$(date -u +%Y%m%dT%H%M%SZ)
    BACKUP_STAGE=$(mktemp -d "$STATE/backup/.$STAMP.hacp-XXXXXX") || stage_fail "cannot create a backup directory in $STATE/backup"
  fi
  case $1 in */*) make_dirs "$BACKUP_STAGE" "${1%/*}" 0700 0700 ;; esac
  cp -pP -- "$ROOT/$1" "$BACKUP_STAGE/$1" || stage_fail "cannot back up $ROOT/$1 to $BACKUP_STAGE"
  if [ ! -L "$BACKUP_STAGE/$1" ]; then flush "$BACKUP_STAGE/$1" || stage_fail "cannot flush the backup of $ROOT/$1 to disk"; fi
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

# Plans (or, in a dry run, describes) one file of the bundle.
plan_file() { # mode sum path
  dst=$ROOT/$3
  if [ ! -e "$dst" ] && [ ! -L "$dst" ]; then
    CREATED=$((CREATED + 1))
    case $3 in
      "$MANIFESTS"/*) NEW_MANIFESTS="${NEW_MANIFESTS}create $1 $3$NL" ;;
      *) PLAN="${PLAN}create $1 $3$NL" ;;
    esac
    if [ "$DRY_RUN" = 1 ]; then
      say "would create $dst ($1)"
      show_diff /dev/null "files/$3" "$dst"
    fi
    return
  fi
  if [ ! -e "$dst" ]; then
    cur_mode=none # a dangling symbolic link: replaced like a changed file
  else
    cur_mode=$(mode_of "$dst")
  fi
  cur_sum=
  if [ "$cur_mode" != none ]; then cur_sum=$(sum_of "$dst"); fi
  if [ "$cur_sum" = "$2" ]; then
    if [ "$cur_mode" = "$1" ]; then
      UNCHANGED=$((UNCHANGED + 1))
      return
    fi
    REMODED=$((REMODED + 1))
    PLAN="${PLAN}chmod $cur_mode:$1 $3$NL"
    if [ "$DRY_RUN" = 1 ]; then say "would change the mode of $dst: $cur_mode -> $1"; fi
    return
  fi
  REPLACED=$((REPLACED + 1))
  PLAN="${PLAN}replace $1 $3$NL"
  if [ "$DRY_RUN" = 1 ]; then
    if [ "$cur_mode" = "$1" ]; then say "would replace $dst"; else say "would replace $dst (mode $cur_mode -> $1)"; fi
    show_diff "$dst" "files/$3" "$dst"
  fi
}

# Plans the removal of the files the last install of this cluster put here that this bundle no longer
# has ($1: manifests or host): they are moved to the backup.
plan_leaving() { # manifests|host
  old_ifs=$IFS
  IFS=$NL
  set -f
  for p in $RECORDED; do
    IFS=$old_ifs
    case $p in
      "$MANIFESTS"/*) [ "$1" = manifests ] || continue ;;
      *) [ "$1" = host ] || continue ;;
    esac
    if in_bundle "$p"; then continue; fi
    dst=$ROOT/$p
    if [ ! -e "$dst" ] && [ ! -L "$dst" ]; then continue; fi
    if [ -d "$dst" ] && [ ! -L "$dst" ]; then
      warn "$dst was installed by the last bundle of cluster $CLUSTER as a file and is a directory now (left alone)"
      continue
    fi
    REMOVED=$((REMOVED + 1))
    PLAN="${PLAN}remove - $p$NL"
    if [ "$DRY_RUN" = 1 ]; then say "would remove $dst (installed by the last bundle of cluster $CLUSTER, not in this one; it would be moved to the backup)"; fi
  done
  set +f
  IFS=$old_ifs
}

# A failure of a change: before the first one nothing changed (exit 5), after it the node is half
# way (exit 6: what is in place, what is not, how to recover).
commit_fail() { # what failed, index of the failed step
  if [ "$CHANGED" = 0 ]; then
    if [ -n "$BACKUP" ]; then rm -rf -- "$BACKUP" || true; fi
    STARTED=0
    die 5 "$1; nothing changed: the staged files were removed and the node is as it was (fix: the cause above, and rerun)"
  fi
  left=
  i=0
  old_ifs=$IFS
  IFS=$NL
  set -f
  for line in $COMMIT; do
    i=$((i + 1))
    if [ "$i" -ge "$2" ]; then left="$left $ROOT/${line#* * }"; fi
  done
  set +f
  IFS=$old_ifs
  die 6 "$1; the install stopped midway: the $CHANGED changes listed above are in place, these are not:$left; the files replaced or removed so far are in $BACKUP (fix: the cause above, then rerun the installer, which completes the rest; or, to go back, copy the files from $BACKUP over)"
}

# --- 3. plan --------------------------------------------------------------------------------------
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
fi
read_record
if [ "$DRY_RUN" = 0 ]; then remove_stale_temps; fi

# Directories, parents first; existing ones are left as they are.
NEEDED_DIRS=
while read -r kind mode _sum path; do
  [ "$kind" = d ] || continue
  dst=$ROOT/$path
  if [ -d "$dst" ]; then
    cur_mode=$(mode_of "$dst")
    if [ "$cur_mode" != "$mode" ]; then warn "$dst has mode $cur_mode, the bundle's is $mode (an existing directory is left as it is: chmod $mode $dst if you want it)"; fi
    continue
  fi
  DIRS=$((DIRS + 1))
  NEEDED_DIRS="$NEEDED_DIRS$mode $path$NL"
  if [ "$DRY_RUN" = 1 ]; then say "would create directory $dst ($mode)"; fi
done <FILES

# The order of the changes: host files first (a pod's config exists before the pod); then the manifests
# replaced (or their modes); then the manifests that leave, just before the new ones (a pod that leaves
# is gone from the directory before the one that replaces it is there, e.g. haproxy.yaml before
# nginx.yaml: the two never bind the same port together, and a failure before that point leaves the old
# pod in place); then the new manifests; then the host files that leave (their pods are gone by then).
NEW_MANIFESTS=
for pass in host manifests; do
  while read -r kind mode sum path; do
    [ "$kind" = f ] || continue
    case $path in
      "$MANIFESTS"/*) [ "$pass" = manifests ] || continue ;;
      *) [ "$pass" = host ] || continue ;;
    esac
    plan_file "$mode" "$sum" "$path"
  done <FILES
done
plan_leaving manifests
PLAN=$PLAN$NEW_MANIFESTS
plan_leaving host

# The record of what this bundle installs (rewritten only when it differs).
RECORD_TEXT="# files installed by install.sh for node $EXPECTED of cluster $CLUSTER: kind mode sha256 path"
while read -r kind mode sum path; do
  if [ "$kind" = f ]; then RECORD_TEXT=$RECORD_TEXT$NL"f $mode $sum $path"; fi
done <FILES
RECORD_CHANGED=1
if [ -f "$RECORD" ] && [ "$(cat -- "$RECORD")" = "$RECORD_TEXT" ]; then RECORD_CHANGED=0; fi

# --- 4. stage: write and flush every new file and every backup; nothing is changed yet ------------
if [ "$DRY_RUN" = 0 ]; then
  old_ifs=$IFS
  IFS=$NL
  set -f
  for line in $NEEDED_DIRS; do
    IFS=$old_ifs
    mkdir -m "${line%% *}" -- "$ROOT/${line#* }" || stage_fail "cannot create the directory $ROOT/${line#* }"
    NEW_DIRS=$NEW_DIRS$ROOT/${line#* }$NL
  done
  IFS=$NL
  for line in $PLAN; do
    IFS=$old_ifs
    op=${line%% *} rest=${line#* }
    arg=${rest%% *} p=${rest#* }
    case $op in
      create)
        stage_file "$arg" - "$p"
        COMMIT="${COMMIT}create $arg:$SUFFIX $p$NL"
        ;;
      replace)
        stage_backup "$p"
        stage_file "$arg" - "$p"
        COMMIT="${COMMIT}replace $arg:$SUFFIX $p$NL"
        ;;
      remove)
        stage_backup "$p"
        COMMIT="${COMMIT}remove - $p$NL"
        ;;
      chmod) COMMIT=$COMMIT$line$NL ;;
    esac
  done
  set +f
  IFS=$old_ifs
  if [ "$RECORD_CHANGED" = 1 ]; then
    make_dirs "$ROOT" var/lib/ha-control-plane/installed 0700
    t=$(mktemp "$STATE/installed/.$CLUSTER.files.hacp-XXXXXX") || stage_fail "cannot create a temporary file in $STATE/installed"
    STAGED=$STAGED$t$NL
    printf '%s\n' "$RECORD_TEXT" >"$t" || stage_fail "cannot write $t"
    chmod 0600 -- "$t" || stage_fail "cannot chmod $t"
    flush "$t" || stage_fail "cannot flush $t to disk"
    COMMIT="${COMMIT}record 0600:${t##*.hacp-} ${RECORD#"$ROOT"/}$NL"
  fi

  # --- 5. change: the backup in place first, then rename, chmod or remove in the planned order ----
  if [ -n "$BACKUP_STAGE" ]; then
    BACKUP=$STATE/backup/$STAMP
    n=1
    while [ -e "$BACKUP" ] || [ -L "$BACKUP" ]; do
      n=$((n + 1))
      [ "$n" -le 100 ] || stage_fail "cannot name a backup directory in $STATE/backup"
      BACKUP=$STATE/backup/$STAMP-$n
    done
    STARTED=1
    mv -f -- "$BACKUP_STAGE" "$BACKUP" || { BACKUP=; commit_fail "cannot rename $BACKUP_STAGE" 1; }
    BACKUP_STAGE=
  fi
  STARTED=1
  step=0
  old_ifs=$IFS
  IFS=$NL
  set -f
  for line in $COMMIT; do
    IFS=$old_ifs
    step=$((step + 1))
    op=${line%% *} rest=${line#* }
    arg=${rest%% *} p=${rest#* }
    dst=$ROOT/$p
    case $op in
      create | replace | record)
        mode=${arg%%:*}
        tmp=${dst%/*}/.${dst##*/}.hacp-${arg#*:}
        mv -f -- "$tmp" "$dst" || commit_fail "cannot rename $tmp to $dst" "$step"
        case $op in
          create) say "created $dst ($mode)" ;;
          replace) say "replaced $dst ($mode; the old one is in $BACKUP/$p)" ;;
          record) say "recorded the installed files in $dst" ;;
        esac
        ;;
      chmod)
        chmod "${arg#*:}" -- "$dst" || commit_fail "cannot chmod $dst" "$step"
        say "mode of $dst: ${arg%%:*} -> ${arg#*:}"
        ;;
      remove)
        rm -f -- "$dst" || commit_fail "cannot remove $dst" "$step"
        say "removed $dst (not in this bundle, installed by the last one of cluster $CLUSTER; the old one is in $BACKUP/$p)"
        ;;
    esac
    case $op:$p in
      record:*) ;;
      remove:etc/sysctl.d/*) SYSCTL_REMOVED="$SYSCTL_REMOVED $dst" ;; # sysctl --system would not undo it
      *) note_change "$p" ;;
    esac
    CHANGED=$((CHANGED + 1))
    test_pause "$CHANGED" "${HA_INSTALL_TEST_PAUSE_AFTER:-}" "change(s)"
  done
  set +f
  IFS=$old_ifs
  STAGED=
fi

# Manifests the kubelet runs that this bundle does not own (and that are not being removed): left
# alone, but said.
for m in "$ROOT/$MANIFESTS"/*; do
  [ -e "$m" ] || [ -L "$m" ] || continue
  if in_bundle "$MANIFESTS/${m##*/}"; then continue; fi
  case "$NL$PLAN" in *"${NL}remove - $MANIFESTS/${m##*/}$NL"*) continue ;; esac
  warn "$m is not in this bundle; the kubelet runs it too (left alone: move it out of the directory if it is obsolete)"
done

CHANGES=$((DIRS + CREATED + REPLACED + REMODED + REMOVED))
COUNTS="$DIRS directories created, $CREATED files created, $REPLACED replaced, $REMODED modes changed, $REMOVED removed, $UNCHANGED unchanged"
if [ "$DRY_RUN" = 1 ]; then
  if [ "$CHANGES" = 0 ]; then
    say "no changes: $TARGET already has this bundle ($UNCHANGED files up to date)"
  else
    say "would change: $COUNTS; nothing was written"
  fi
elif [ "$CHANGES" = 0 ]; then
  say "no changes: $TARGET already has this bundle ($UNCHANGED files up to date)"
else
  say "done: $COUNTS${BACKUP:+; backups in $BACKUP}"
  if [ "$SYSTEMD_CHANGED" = 1 ]; then say "next: systemd units changed; run: systemctl daemon-reload && systemctl restart kubelet"; fi
  if [ "$SYSCTL_CHANGED" = 1 ]; then say "next: sysctl settings changed; run: sysctl --system"; fi
  if [ -n "$SYSCTL_REMOVED" ]; then say "next: the settings of the removed sysctl files (${SYSCTL_REMOVED# }) stay in effect until a reboot (sysctl --system does not undo them): set them back with sysctl -w if they must go now; the files are in $BACKUP"; fi
fi
exit 0
