#!/usr/bin/env bash
# Writes a verified backup of a pa platform to a new, timestamped file, and
# optionally keeps only the newest N. A thin wrapper around `pa backup create`
# and `pa backup verify`, for cron or a systemd timer (see deploy/DR.md).
#
#   deploy/scripts/backup.sh [--keep N] [--pa PATH] DIR
#
# DIR: the folder for the backups (pa-YYYYMMDDTHHMMSSZ.backup; created if missing).
# The platform is found as `pa serve` finds it: PA_DATA_DIR (default ./data)
# and PA_DATABASE_URL. To encrypt, set PA_BACKUP_PASSPHRASE or put the
# passphrase in the file named by PA_BACKUP_PASSPHRASE_FILE.
# --keep N: after a verified backup, delete all but the newest N in DIR.
# --pa PATH: the pa binary (default: pa on PATH).
set -euo pipefail

pa=pa
keep=0
dir=""

usage() { sed -n '2,13p' "$0"; }

while [ "$#" -gt 0 ]; do
    case "$1" in
        --keep) keep=${2:?--keep needs a number}; shift ;;
        --pa) pa=${2:?--pa needs a path}; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "backup.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *)
            [ -z "$dir" ] || { echo "backup.sh: one DIR only" >&2; exit 2; }
            dir=$1
            ;;
    esac
    shift
done
[ -n "$dir" ] || { usage >&2; exit 2; }
case "$keep" in
    ''|*[!0-9]*) echo "backup.sh: --keep needs a number, not $keep" >&2; exit 2 ;;
esac

key=()
if [ -n "${PA_BACKUP_PASSPHRASE_FILE:-}" ]; then
    key=(--passphrase-file "$PA_BACKUP_PASSPHRASE_FILE")
fi

mkdir -p "$dir"
file="$dir/pa-$(date -u +%Y%m%dT%H%M%SZ).backup"
"$pa" backup create --out "$file" "${key[@]}"
"$pa" backup verify "$file" "${key[@]}"

if [ "$keep" -gt 0 ]; then
    # The names sort by time; the glob lists them oldest first.
    backups=("$dir"/pa-*.backup)
    excess=$(( ${#backups[@]} - keep ))
    for (( i = 0; i < excess; i++ )); do
        rm -- "${backups[$i]}"
        echo "removed ${backups[$i]}"
    done
fi
