#!/usr/bin/env bash
# Installs the system packages ANVCS builds against (Debian/Ubuntu), with sudo when not root.
# Idempotent: packages already present are not touched, and apt is not even asked.
set -euo pipefail
packages=(git libgit2-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev pkg-config zlib1g-dev python3 python3-venv "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || {
  echo "install-deps: the Swift 6 toolchain is not on PATH; install it from swift.org (swiftly) and run this again" >&2
  exit 1
}
