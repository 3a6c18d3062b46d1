#!/usr/bin/env bash
# Smoke test of a built Gatehouse image: start it on a free port of the host network, wait for /healthz,
# check the container's health check, user and store volume, sign in as the admin it created from
# GATEHOUSE_ADMIN_EMAIL/PASSWORD, create a user and PATCH it, then stop it and check it stopped cleanly.
#
#   scripts/smoke-image.sh [IMAGE]      (default: $GATEHOUSE_IMAGE or localhost/gatehouse:latest)
#
# Environment: CONTAINER_ENGINE and GATEHOUSE_ENGINE_FLAGS as for scripts/build-image.sh; needs curl and node.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${1:-${GATEHOUSE_IMAGE:-localhost/gatehouse:latest}}"
read -ra engine <<< "${CONTAINER_ENGINE:-podman} ${GATEHOUSE_ENGINE_FLAGS:-}"
name="gatehouse-smoke-$$"
port="$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
base="http://127.0.0.1:$port"
email=smoke-admin@example.com
password="smoke-$$-$RANDOM-password"
work="$(mktemp -d)"
started=0

cleanup() {
  if [ "$started" = 1 ]; then "${engine[@]}" rm -f "$name" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "smoke-image: FAIL: $*" >&2
  if [ "$started" = 1 ]; then
    echo "--- container log ---" >&2
    "${engine[@]}" logs "$name" 2>&1 | tail -40 >&2 || true
  fi
  exit 1
}
# curl_json EXPECTED_STATUS curl-args… : the body goes to $work/body; a different status fails the test.
curl_json() {
  local expected="$1"; shift
  local status
  status="$(curl -s -o "$work/body" -w '%{http_code}' -b "$work/jar" -c "$work/jar" "$@")" || fail "curl $* failed"
  [ "$status" = "$expected" ] || fail "$* answered $status, expected $expected: $(head -c 400 "$work/body")"
}

t0=$(date +%s)
echo "# smoke: starting $image on port $port (host network)"
# podman's complaints about scheduling health checks without systemd go to a file, shown on failure only.
"${engine[@]}" run -d --name "$name" --network host \
  -e PORT="$port" -e GATEHOUSE_ADMIN_EMAIL="$email" -e GATEHOUSE_ADMIN_PASSWORD="$password" \
  --health-interval=disable "$image" >/dev/null 2>"$work/run.err" || fail "podman run failed: $(cat "$work/run.err")"
started=1

for _ in $(seq 1 120); do
  if curl -sf -o /dev/null "$base/healthz"; then break; fi
  [ "$("${engine[@]}" inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ] || fail "the container exited before /healthz answered"
  sleep 0.5
done
curl -sf -o /dev/null "$base/healthz" || fail "/healthz did not answer within 60 s"
echo "# smoke: /healthz 200 after $(( $(date +%s) - t0 )) s"

# The image's own HEALTHCHECK, run once now (exit 0 = healthy); --health-interval=disable above keeps
# podman from scheduling it with systemd timers, which a machine without systemd does not have.
"${engine[@]}" healthcheck run "$name" >/dev/null || fail "the image's HEALTHCHECK reports unhealthy"
uid="$("${engine[@]}" exec "$name" node -e 'console.log(process.getuid())')"
[ "$uid" != 0 ] || fail "the server runs as root"
"${engine[@]}" exec "$name" node -e "require('node:fs').accessSync('/data/gatehouse.db')" \
  || fail "the embedded store is not on the /data volume"
echo "# smoke: HEALTHCHECK healthy, server uid $uid, store in /data"

curl_json 200 -H 'Content-Type: application/json' \
  -d "{\"identifier\":\"$email\",\"password\":\"$password\"}" "$base/api/auth/sign-in"
curl_json 200 "$base/api/auth/csrf"
csrf="$(node -e 'console.log(JSON.parse(require("node:fs").readFileSync(process.argv[1],"utf8")).csrf_token)' "$work/body")"
curl_json 201 -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"email":"jane@example.com","password":"a-long-password","username":"jane"}' "$base/api/admin/users"
id="$(node -e 'const b=JSON.parse(require("node:fs").readFileSync(process.argv[1],"utf8"));console.log((b.item??b.user??b).id)' "$work/body")"
curl_json 200 -X PATCH -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"username":"John Doe"}' "$base/api/admin/users/$id"
grep -q '"John Doe"' "$work/body" || fail "PATCH /api/admin/users/$id did not return the new username: $(head -c 400 "$work/body")"
echo "# smoke: signed in as $email, created user $id and PATCHed it"

"${engine[@]}" stop -t 20 "$name" >/dev/null 2>"$work/stop.err" || fail "podman stop failed: $(cat "$work/stop.err")"
code="$("${engine[@]}" inspect -f '{{.State.ExitCode}}' "$name")"
[ "$code" = 0 ] || fail "the server exited with $code on SIGTERM"
"${engine[@]}" logs "$name" 2>&1 | grep -q 'shutting down' || fail "no shutdown line in the log"
echo "# smoke: stopped cleanly (exit 0) — passed in $(( $(date +%s) - t0 )) s"
