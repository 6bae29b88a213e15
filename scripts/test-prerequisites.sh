#!/usr/bin/env bash
# Makes sure the end-to-end tests find nginx, openssl and Chromium; installs what is missing
# when running as root with apt-get (as CI does), and otherwise says what to install.
set -euo pipefail

missing=()
# Debian installs nginx in /usr/sbin, which is not on an ordinary user's PATH.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  missing+=(nginx-light)
fi
if ! command -v openssl >/dev/null 2>&1; then
  missing+=(openssl)
fi
# The browser tests start this exact path (test/helpers/browser.ts).
if [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# A package install must not start a system nginx on port 80: policy-rc.d answering 101
# forbids service starts (https://people.debian.org/~hmh/invokerc.d-policyrc.d-specification.txt).
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=true
fi
remove_policy() {
  if [ "$own_policy" = true ]; then rm -f "$policy"; fi
}
trap remove_policy EXIT

log=$(mktemp)
fail() {
  cat "$log" >&2
  rm -f "$log"
  exit 1
}
apt-get update -q >"$log" 2>&1 || fail
# Releases after Debian 12 may fold nginx-light into the plain nginx package.
packages=()
for package in "${missing[@]}"; do
  if [ "$package" = nginx-light ] && ! apt-cache show nginx-light >/dev/null 2>&1; then
    package=nginx
  fi
  packages+=("$package")
done
echo "installing test prerequisites: ${packages[*]}"
apt-get install -y -q --no-install-recommends "${packages[@]}" >"$log" 2>&1 || fail
rm -f "$log"

# In case an existing policy-rc.d allowed the start anyway.
if command -v service >/dev/null 2>&1; then
  service nginx stop >/dev/null 2>&1 || true
fi
