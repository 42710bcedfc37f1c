#!/usr/bin/env bash
# Writes a self-signed TLS certificate for nginx (development and testing;
# use your CA's certificate, or ACME, in production).
#
#   deploy/scripts/gen-cert.sh [--force] [--days N] [--out DIR] [NAME...]
#
# NAME: DNS names (and IP addresses) to put in the certificate; the first is
# also its subject. Default: localhost and 127.0.0.1.
# DIR: where tls.crt and tls.key go. Default: deploy/nginx/certs (mounted as
# /etc/nginx/certs by docker-compose.yml; git ignores its contents).
# An existing certificate is kept unless --force is given.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/../nginx/certs"
days=365
force=0
names=()

while [ "$#" -gt 0 ]; do
    case "$1" in
        --force) force=1 ;;
        --days) days=${2:?--days needs a number}; shift ;;
        --out) out=${2:?--out needs a folder}; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) echo "gen-cert.sh: unknown option $1" >&2; exit 2 ;;
        *) names+=("$1") ;;
    esac
    shift
done
[ "${#names[@]}" -gt 0 ] || names=(localhost 127.0.0.1)

command -v openssl >/dev/null || { echo "gen-cert.sh: openssl is not installed (Debian: apt-get install openssl)" >&2; exit 1; }

crt="$out/tls.crt"
key="$out/tls.key"
if [ -e "$crt" ] && [ "$force" = 0 ]; then
    echo "gen-cert.sh: $crt exists; keeping it (--force to replace)"
    exit 0
fi

san=""
for name in "${names[@]}"; do
    if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then
        san+="${san:+,}IP:$name"
    else
        san+="${san:+,}DNS:$name"
    fi
done

mkdir -p "$out"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days "$days" -subj "/CN=${names[0]}" \
    -addext "subjectAltName=$san" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=serverAuth" \
    -keyout "$key" -out "$crt" 2>/dev/null
# nginx's master process reads the key as root; the certificate is public.
chmod 600 "$key"
chmod 644 "$crt"
echo "gen-cert.sh: wrote $crt and $key for $san, valid $days days"
