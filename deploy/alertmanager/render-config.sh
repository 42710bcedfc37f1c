#!/bin/sh
# Renders the Alertmanager configuration template and starts Alertmanager
# (the container's entrypoint in docker-compose.yml).
#
#   render-config.sh TEMPLATE OUTPUT [alertmanager flags...]
#
# Every ${NAME} in TEMPLATE is replaced by the environment variable NAME (on
# lines that are not comments); an unset variable is an error that names it
# (an empty one is allowed). The
# placeholders sit inside single-quoted YAML scalars, so a ' in a value is
# doubled. The output is written with mode 0600.
# With RENDER_ONLY=1 it stops after writing OUTPUT (deploy/test.sh does that).
# POSIX sh and awk only: it runs in the busybox-based prom/alertmanager image.
set -eu

if [ "$#" -lt 2 ]; then
    echo "usage: $0 TEMPLATE OUTPUT [alertmanager flags...]" >&2
    exit 2
fi
template=$1
output=$2
shift 2

umask 077
awk -v q="'" '
/^[ \t]*#/ { print; next }
{
    line = $0
    out = ""
    while (match(line, /\$\{[A-Za-z_][A-Za-z0-9_]*\}/)) {
        name = substr(line, RSTART + 2, RLENGTH - 3)
        if (!(name in ENVIRON)) {
            printf "render-config: %s is not set (line %d of %s)\n", name, NR, FILENAME > "/dev/stderr"
            failed = 1
        }
        value = ENVIRON[name]
        gsub(q, q q, value)
        out = out substr(line, 1, RSTART - 1) value
        line = substr(line, RSTART + RLENGTH)
    }
    print out line
}
END { exit failed }
' "$template" > "$output.tmp" || { rm -f "$output.tmp"; exit 1; }
mv "$output.tmp" "$output"

if [ "${RENDER_ONLY:-0}" = 1 ]; then
    exit 0
fi
exec /bin/alertmanager --config.file="$output" "$@"
