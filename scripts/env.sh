# Sourced by the scripts: puts cargo's target dir and a pinned Python virtualenv in a cache outside
# the clone, so that CI and the local stack reuse them and a fresh machine gets them by itself.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${ACS_CHAT_CACHE:-$HOME/.cache/acs-chat-api}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export SAM_CLI_TELEMETRY=0
# A CI run builds once: incremental state would only fill its disk.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

# Each step is stamped with the minutes and seconds since the command began, so a run's log
# says where its time went.
log() { printf '\033[1m==> [%d:%02d] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

# Prints the virtualenv for requirements file $1 (named $2-<hash>), made once per hash. Two
# stacks starting at once (the test workers) take turns: the second waits for the first's.
venv_for() {
  local requirements="$1" name="$2" hash venv
  hash="$(sha256sum "$requirements" | cut -c1-12)"
  venv="$CACHE/$name-$hash"
  if [ ! -x "$venv/.ready" ]; then
    mkdir -p "$CACHE"
    (
      flock 9
      [ -x "$venv/.ready" ] && exit 0
      log "installing $(basename "$requirements") into $venv (first run only)"
      rm -rf "$venv"
      # Each step stops on failure: this runs in a command substitution, where set -e does
      # not, and a half-made virtualenv must not be marked ready.
      python3 -m venv "$venv" || exit 1
      "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2 || exit 1
      "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2 || exit 1
      printf '#!/bin/sh\n' > "$venv/.ready" && chmod +x "$venv/.ready"
    ) 9>"$venv.lock" || return 1
  fi
  printf '%s\n' "$venv"
}

# Creates (once per requirements hash) and activates the tools virtualenv.
ensure_venv() {
  local venv
  venv="$(venv_for "$ROOT/scripts/requirements.txt" venv)"
  export VIRTUAL_ENV="$venv"
  export PATH="$venv/bin:$PATH"
}

# The local real-time service: ministack's AppSync Events on a free port, with an Event API
# whose authorizer is our realtime_auth function under `cargo lambda watch` on port $1, and
# the real-time secrets in the local Secrets Manager. Exports what the functions and tests
# read: REALTIME_PUBLISH_KEY_SECRET_ID, REALTIME_WEBHOOK_SECRET_ID, REALTIME_PUBLISH_URL,
# REALTIME_CONNECT_ADDR, REALTIME_WS_URL,
# REALTIME_WEBHOOK_SECRET (test values).
start_realtime() {
  local functions_port="$1" venv port
  venv="$(venv_for "$ROOT/scripts/realtime-requirements.txt" realtime)"
  port="$(free_port)"
  local scratch
  new_scratch scratch
  # AUTH=true: its S3 (the files' bucket) verifies presigned requests as S3 does.
  TMPDIR="$scratch" AUTH=true BIND_HOST=127.0.0.1 GATEWAY_PORT="$port" spawn "$venv/bin/ministack" >"${MINISTACK_LOG:-/dev/null}" 2>&1
  wait_for_port "$port" "ministack" 300
  local exports
  exports="$("$venv/bin/python" "$ROOT/scripts/local_realtime.py" setup "$port" "$functions_port")"
  eval "$exports"
}

# Debian's Chromium, for the browser tests, installed once.
# Debian packages, each named as its command, installed on first use: `jq` and `curl` for the
# README's commands, `chromium` for the browser tests.
ensure_packages() {
  local missing=() package sudo=""
  for package in "$@"; do
    command -v "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Debian's ${missing[*]} (first run only)"
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Background processes a script starts; stopped on exit, whatever the exit. Then their scratch
# folders go: a local AWS unpacks every function it runs into its temporary folder and, stopped
# by a signal, leaves hundreds of megabytes behind each run.
PIDS=()
SCRATCH=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "${SCRATCH[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sets variable $1 to a new temporary folder that cleanup removes.
new_scratch() {
  local made
  made="$(mktemp -d)"
  SCRATCH+=("$made")
  printf -v "$1" '%s' "$made"
}

# Starts a command in its own process group, so cleanup also stops its children.
spawn() {
  setsid "$@" &
  PIDS+=("$!")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until a TCP port on loopback accepts connections.
wait_for_port() {
  local port="$1" what="$2" tries=0
  until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -gt "${3:-300}" ]; then
      log "$what did not start on port $port"
      return 1
    fi
    sleep 0.2
  done
}

# A local Secrets Manager, DynamoDB and S3 (moto, one request at a time: see
# scripts/moto_serial.py) on loopback; sets the AWS variables the SDK reads. A free port can be
# taken by another process before moto binds it (stacks start side by side in the tests): then
# moto says so and exits, and another port is tried.
start_secrets_manager() {
  local port log attempt dir
  log="${MOTO_LOG:-}"
  if [ -z "$log" ]; then new_scratch dir; log="$dir/moto.log"; fi
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    spawn python "$ROOT/scripts/moto_serial.py" "$port" >"$log" 2>&1
    for _ in $(seq 300); do
      grep -q "Running on http://127.0.0.1:$port" "$log" 2>/dev/null && break
      kill -0 "${PIDS[-1]}" 2>/dev/null || break
      sleep 0.1
    done
    if grep -q "Running on http://127.0.0.1:$port" "$log" 2>/dev/null && kill -0 "${PIDS[-1]}" 2>/dev/null; then
      wait_for_port "$port" "moto"
      export AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:$port"
      export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
      unset AWS_PROFILE AWS_SESSION_TOKEN
      return 0
    fi
    log "moto could not take port $port (attempt $attempt)"
  done
  log "moto did not start"
  return 1
}

# Starts the ACS emulator binary $1 (with any further arguments) on a free loopback port and
# exports its connection string (CONNECTION_STRING, test values only) and endpoint
# (ACS_ENDPOINT). Its output goes to $EMULATOR_OUT (its log beside it, .log) when set.
start_emulator() {
  local binary="$1" out="${EMULATOR_OUT:-}" dir
  if [ -z "$out" ]; then new_scratch dir; out="$dir/emulator.out"; fi
  # As for moto: a port taken first by another process makes the emulator exit; try another.
  for _ in 1 2 3 4 5; do
    spawn "$binary" --listen "127.0.0.1:$(free_port)" "${@:2}" >"$out" 2>"$out.log"
    for _ in $(seq 100); do
      grep -q '^ACS_CONNECTION_STRING=' "$out" 2>/dev/null && break
      kill -0 "${PIDS[-1]}" 2>/dev/null || break
      sleep 0.1
    done
    grep -q '^ACS_CONNECTION_STRING=' "$out" 2>/dev/null && break
  done
  CONNECTION_STRING="$(sed -n 's/^ACS_CONNECTION_STRING=//p' "$out")"
  if [ -z "$CONNECTION_STRING" ]; then
    log "the emulator ($binary) did not start"
    cat "$out.log" >&2
    return 1
  fi
  ACS_ENDPOINT="${CONNECTION_STRING%%;*}"
  export CONNECTION_STRING ACS_ENDPOINT="${ACS_ENDPOINT#endpoint=}"
}
