#!/usr/bin/env bash
# Checks that pa nodes are live (/healthz) and ready (/readyz), retrying
# while they start. Exits 0 when every URL is ready, 1 otherwise.
#
#   deploy/scripts/health-check.sh [--retries N] [--interval SECONDS] [--insecure] [URL...]
#
# URL: the base address of a node or of nginx (default: $PA_HEALTH_URLS,
# space-separated, or https://localhost). --insecure accepts a self-signed
# certificate (deploy/scripts/gen-cert.sh). Default: 30 retries, 2 s apart.
set -euo pipefail

retries=30
interval=2
curl_flags=(-fsS --max-time 5 -o /dev/null)
urls=()

while [ "$#" -gt 0 ]; do
    case "$1" in
        --retries) retries=${2:?--retries needs a number}; shift ;;
        --interval) interval=${2:?--interval needs a number of seconds}; shift ;;
        --insecure) curl_flags+=(--insecure) ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        -*) echo "health-check.sh: unknown option $1" >&2; exit 2 ;;
        *) urls+=("${1%/}") ;;
    esac
    shift
done
if [ "${#urls[@]}" -eq 0 ]; then
    read -r -a urls <<<"${PA_HEALTH_URLS:-https://localhost}"
fi

# ready URL: whether the node at URL answers 200 on both probes.
ready() {
    curl "${curl_flags[@]}" "$1/healthz" && curl "${curl_flags[@]}" "$1/readyz"
}

status=0
for url in "${urls[@]}"; do
    attempt=1
    until ready "$url" 2>/dev/null; do
        if [ "$attempt" -ge "$retries" ]; then
            echo "NOT READY  $url (after $attempt attempts)"
            status=1
            continue 2
        fi
        attempt=$((attempt + 1))
        sleep "$interval"
    done
    echo "ready      $url"
done
exit "$status"
