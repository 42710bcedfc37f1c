#!/usr/bin/env bash
# Runs deploy/scripts/deploy.sh against a fake `docker compose` (a rollout,
# then a rollback when a node does not become ready) and
# deploy/scripts/health-check.sh against a stub node and a dead port.
# Prints what failed and exits 1 on the first failure.
set -euo pipefail

scripts=$(cd "$(dirname "$0")/../scripts" && pwd)
work=$(mktemp -d)
stub=""
cleanup() {
    [ -z "$stub" ] || kill "$stub" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "$*" >&2
    exit 1
}

# A compose that records which image each node runs, and whose nodes are
# ready unless their image's name contains "broken".
cat >"$work/compose" <<'FAKE'
#!/usr/bin/env bash
state=${FAKE_STATE:?}
while [ "$#" -gt 0 ]; do
    case "$1" in
        -f|--env-file) shift 2 ;;
        up) node=${*: -1}; echo "$node $PA_IMAGE" >>"$state/log"; echo "$PA_IMAGE" >"$state/$node"; exit 0 ;;
        exec) node=$3; image=$(cat "$state/$node"); [[ $image != *broken* ]]; exit ;;
        *) echo "fake compose: unexpected $*" >&2; exit 2 ;;
    esac
done
FAKE
chmod +x "$work/compose"
export COMPOSE="$work/compose" FAKE_STATE="$work" PA_DEPLOY_ENV_FILE="$work/.env"

printf 'PA_SECRET_KEY=x\nPA_IMAGE=pa:1\n' >"$work/.env"
"$scripts/deploy.sh" --timeout 0 pa:2 >/dev/null || fail "deploy.sh pa:2 failed"
[ "$(cat "$work/pa1") $(cat "$work/pa2")" = "pa:2 pa:2" ] || fail "not every node runs pa:2: $(cat "$work/log")"
grep -qx 'PA_IMAGE=pa:2' "$work/.env" || fail ".env does not name pa:2"

: >"$work/log"
if "$scripts/deploy.sh" --timeout 0 pa:3-broken >/dev/null 2>&1; then
    fail "deploy.sh succeeded with a node that is not ready"
fi
[ "$(cat "$work/log")" = "$(printf 'pa1 pa:3-broken\npa1 pa:2')" ] ||
    fail "expected pa1 to be rolled back and pa2 untouched, got: $(cat "$work/log")"
grep -qx 'PA_IMAGE=pa:2' "$work/.env" || fail ".env changed by a rolled-back deploy"
"$scripts/deploy.sh" >/dev/null 2>&1 && fail "deploy.sh without an image succeeded"

# health-check.sh: a stub node that is ready, and a port where nothing listens.
mkdir "$work/node"
echo ok >"$work/node/healthz"
echo ok >"$work/node/readyz"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/node" "$port" >/dev/null 2>&1 &
stub=$!
"$scripts/health-check.sh" --retries 50 --interval 0.1 "http://127.0.0.1:$port" >/dev/null ||
    fail "health-check.sh: the stub node is not ready"
if "$scripts/health-check.sh" --retries 2 --interval 0.1 "http://127.0.0.1:$port" "http://127.0.0.1:$dead" >/dev/null; then
    fail "health-check.sh: a dead node passed"
fi
rm "$work/node/readyz"
if "$scripts/health-check.sh" --retries 1 "http://127.0.0.1:$port" >/dev/null; then
    fail "health-check.sh: a node without /readyz passed"
fi
echo "deploy.sh and health-check.sh behave"
