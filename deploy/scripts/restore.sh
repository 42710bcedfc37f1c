#!/usr/bin/env bash
# Restores a pa backup into an empty data folder and an empty database, then
# checks the restored audit chains. A thin wrapper around `pa backup verify`,
# `pa backup restore` and `pa audit verify` (see deploy/DR.md).
#
#   deploy/scripts/restore.sh [--pa PATH] FILE
#
# The target is given as to `pa serve`: PA_DATA_DIR (default ./data; must be
# empty or missing) and PA_DATABASE_URL (its database or schema must hold no
# tables). An encrypted backup needs PA_BACKUP_PASSPHRASE or the file named
# by PA_BACKUP_PASSPHRASE_FILE. Stop every pa node before restoring.
# --pa PATH: the pa binary (default: pa on PATH).
set -euo pipefail

pa=pa
file=""

usage() { sed -n '2,12p' "$0"; }

while [ "$#" -gt 0 ]; do
    case "$1" in
        --pa) pa=${2:?--pa needs a path}; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "restore.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *)
            [ -z "$file" ] || { echo "restore.sh: one FILE only" >&2; exit 2; }
            file=$1
            ;;
    esac
    shift
done
[ -n "$file" ] || { usage >&2; exit 2; }

key=()
if [ -n "${PA_BACKUP_PASSPHRASE_FILE:-}" ]; then
    key=(--passphrase-file "$PA_BACKUP_PASSPHRASE_FILE")
fi

"$pa" backup verify "$file" "${key[@]}"
"$pa" backup restore "$file" "${key[@]}"
"$pa" audit verify
