#!/usr/bin/env bash
# Rolls a new pa image out to the Docker Compose stack one node at a time,
# and rolls every updated node back to the previous image when one of them
# does not become ready.
#
#   deploy/scripts/deploy.sh [--timeout SECONDS] IMAGE
#
# IMAGE: the image to run, e.g. powerautomation/pa:1.4.0. The previous one is
# PA_IMAGE in deploy/.env (or the compose default). Each node (PA_NODES,
# default "pa1 pa2") is recreated with IMAGE and must answer 200 on /readyz
# within the timeout (default 120 s) before the next is touched; nginx sends
# requests to the other node meanwhile. On success PA_IMAGE in deploy/.env is
# set to IMAGE. Exits 0 when deployed, 1 when rolled back, 2 on bad usage.
# COMPOSE overrides the compose command (default: docker compose) and
# PA_DEPLOY_ENV_FILE the env file.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
compose_file="$here/docker-compose.yml"
env_file=${PA_DEPLOY_ENV_FILE:-$here/.env}
timeout=120
image=""

while [ "$#" -gt 0 ]; do
    case "$1" in
        --timeout) timeout=${2:?--timeout needs a number of seconds}; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        -*) echo "deploy.sh: unknown option $1" >&2; exit 2 ;;
        *) image=$1 ;;
    esac
    shift
done
if [ -z "$image" ]; then
    echo "usage: deploy.sh [--timeout SECONDS] IMAGE" >&2
    exit 2
fi
if [ ! -f "$env_file" ]; then
    echo "deploy.sh: $env_file is missing (copy .env.example and fill it in)" >&2
    exit 2
fi
read -r -a nodes <<<"${PA_NODES:-pa1 pa2}"
read -r -a compose <<<"${COMPOSE:-docker compose}"

previous=$(sed -n 's/^PA_IMAGE=//p' "$env_file" | tail -n 1)
previous=${previous:-powerautomation/pa:latest}

# on NODE IMAGE: recreates NODE with IMAGE.
on() {
    PA_IMAGE=$2 "${compose[@]}" -f "$compose_file" --env-file "$env_file" up -d --no-deps --force-recreate "$1"
}

# ready NODE: waits up to the timeout for NODE's /readyz.
ready() {
    local waited=0
    until "${compose[@]}" -f "$compose_file" --env-file "$env_file" exec -T "$1" \
        curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:8080/readyz 2>/dev/null; do
        if [ "$waited" -ge "$timeout" ]; then
            return 1
        fi
        sleep 2
        waited=$((waited + 2))
    done
}

updated=()
for node in "${nodes[@]}"; do
    echo "deploy: $node -> $image"
    on "$node" "$image"
    updated+=("$node")
    if ! ready "$node"; then
        echo "deploy: $node is not ready after ${timeout}s; rolling back to $previous" >&2
        for back in "${updated[@]}"; do
            on "$back" "$previous"
            ready "$back" || echo "deploy: $back is not ready on $previous either; look at its logs" >&2
        done
        exit 1
    fi
done

if grep -q '^PA_IMAGE=' "$env_file"; then
    sed -i "s|^PA_IMAGE=.*|PA_IMAGE=$image|" "$env_file"
else
    echo "PA_IMAGE=$image" >>"$env_file"
fi
echo "deploy: ${nodes[*]} run $image"
