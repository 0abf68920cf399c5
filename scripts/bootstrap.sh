#!/usr/bin/env bash
# Installs the Debian packages Rift needs, only those missing. Idempotent and quiet when nothing is missing.
set -euo pipefail
packages=(
  libmujoco-dev          # MuJoCo 2.2.2: physics (libmujoco.so.2.2.2) and headers for the native shim
  libegl1 libegl-mesa0 libgl1-mesa-dri libgles2   # EGL surfaceless offscreen rendering (Mesa llvmpipe)
  libosmesa6             # OSMesa fallback renderer
  ffmpeg                 # camera / video frames through a process pipe
  chromium               # operator console end-to-end test (Playwright drives it; no browser download)
)
missing=()
for p in "${packages[@]}"; do
  [ "${p:0:1}" = "#" ] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bootstrap: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done" >&2
