#!/usr/bin/env bash
# Unpacks etcd 3.5 (the etcd-server .deb of Debian's unstable suite) into a cache directory for the
# real-etcd tests, without changing the system: a private sources list and package lists in a temp
# dir, `apt-get download`, `dpkg-deb -x`. The Debian mirror is taken from this machine's own apt
# sources. Prints the path of the etcd binary.
set -euo pipefail
dest="${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache/etcd-3.5}"
if [ -x "$dest/usr/bin/etcd" ]; then echo "$dest/usr/bin/etcd"; exit 0; fi
uri=$(grep -rhoE '^URIs: *[^ ]+/debian$' /etc/apt/sources.list.d/ 2>/dev/null | head -n1 | sed 's/^URIs: *//')
[ -n "$uri" ] || uri=$(grep -rhoE '^deb +[^ ]+/debian ' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -n1 | awk '{print $2}')
[ -n "$uri" ] || { echo "fetch-etcd-3.5: no Debian mirror in /etc/apt sources" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri unstable main" > "$work/sources.list"
opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$work/lists"
      -o "Dir::Cache=$work/cache" -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1")
apt-get "${opts[@]}" -q update >&2
(cd "$work" && apt-get "${opts[@]}" -q download etcd-server >&2)
deb=$(ls "$work"/etcd-server_*.deb | head -n1)
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest"
"$dest/usr/bin/etcd" --version >&2
echo "$dest/usr/bin/etcd"
