#!/usr/bin/env bash
# Installs the system packages tcbuild's tests and fixtures need (Debian 12, as root).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: run as root (apt-get needs it)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
apt-get update -qq
# Builds the tests' static probes for the other architecture, which they run under qemu.
if [ "$(dpkg --print-architecture)" = arm64 ]; then
  cross_compiler=(gcc-x86-64-linux-gnu libc6-dev-amd64-cross)
else
  cross_compiler=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
fi
apt-get install -y -qq --no-install-recommends \
  docker-registry skopeo umoci runc busybox-static qemu-user-static binfmt-support \
  ca-certificates openssl perl slirp4netns passt zstd git "${cross_compiler[@]}" >/dev/null
