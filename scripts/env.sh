# Sourced by the scripts: puts cargo's target dir and a pinned Python virtualenv in a cache outside
# the clone, so that CI and the local stack reuse them and a fresh machine gets them by itself.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${ACS_CHAT_CACHE:-$HOME/.cache/acs-chat-api}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Creates (once per requirements hash) and activates the tools virtualenv.
ensure_venv() {
  local hash venv
  hash="$(sha256sum "$ROOT/scripts/requirements.txt" | cut -c1-12)"
  venv="$CACHE/venv-$hash"
  if [ ! -x "$venv/.ready" ]; then
    log "installing Python tools into $venv (first run only)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/scripts/requirements.txt"
    printf '#!/bin/sh\n' > "$venv/.ready" && chmod +x "$venv/.ready"
  fi
  export VIRTUAL_ENV="$venv"
  export PATH="$venv/bin:$PATH"
}
