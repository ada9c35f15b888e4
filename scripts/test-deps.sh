#!/usr/bin/env bash
# Installs what the tests run for real, when it is missing: Debian's etcd 3.4 (etcd-server), etcdctl,
# keepalived, haproxy, nginx with the stream module, iproute2, openssl, curl, shellcheck (the bundle
# installer's lint), util-linux (unshare, nsenter), nftables (the gray-failure scenario cuts only
# etcd's ports between masters), ansible-core and ansible-lint (the generated playbooks), openssh-server and
# openssh-client (an sshd per lab node that Ansible reaches them through), gpgv, xz-utils
# and dpkg (the unstable index and .debs), runc (the OCI runtime under containerd), gcc
# and libc6-dev (the pause image's static binary); then Debian
# unstable's haproxy, nginx and keepalived, and containerd (the real kubelet's runtime,
# scripts/runtime-debs.txt) unpacked into .cache/debs (scripts/fetch-lb-daemons.sh) and
# the real Kubernetes and etcd binaries built from the Go module proxy into .cache/bin
# (scripts/k8s-binaries.sh). Needs root for apt-get; idempotent and quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for bin in etcd:etcd-server etcdctl:etcd-client keepalived:keepalived haproxy:haproxy nginx:nginx ip:iproute2 openssl:openssl curl:curl shellcheck:shellcheck nft:nftables gpgv:gpgv xz:xz-utils dpkg-deb:dpkg ansible-playbook:ansible-core ansible-lint:ansible-lint sshd:openssh-server ssh:openssh-client runc:runc gcc:gcc; do
  command -v "${bin%%:*}" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "${bin%%:*}" >/dev/null 2>&1 || need+=("${bin##*:}")
done
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=(libnginx-mod-stream)
# The pause image's static binary (test/harness/oci-image.ts: gcc -static).
[ -e "/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/libc.a" ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-deps: missing Debian packages ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "test-deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${need[@]}" >&2
  # Debian starts some daemons on install; the tests start their own, on loopback or in namespaces.
  for svc in etcd haproxy nginx keepalived; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  done
fi
# Debian unstable's haproxy, nginx and keepalived (the default images' major.minor), unpacked only:
# the second line of the real-daemon config tests.
bash scripts/fetch-lb-daemons.sh
# Debian unstable's containerd 2 (with its shim and ctr), unpacked only: the runtime under the real
# kubelet (test/kubelet.test.ts).
bash scripts/fetch-lb-daemons.sh --list scripts/runtime-debs.txt
bash scripts/k8s-binaries.sh
