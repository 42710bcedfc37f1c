#!/usr/bin/env python3
"""Offline checks of the files in deploy/ that no dedicated tool covers.

    check_files.py parse                  every YAML and JSON file parses
    check_files.py compose                docker-compose.yml: structure, .env.example, cross-file values
    check_files.py metrics                alert rules and dashboard use only metrics pa exposes
    check_files.py alert-tests            every alert has a firing and a quiet unit test
    check_files.py dashboard-rules OUT    dashboard queries as a rule file (for promtool check rules)
    check_files.py render-alertmanager OUT  alertmanager.yml rendered with .env.example's values
    check_files.py k8s                    k8s/: references between the manifests, probes, security

Each prints what it checked and exits 1 on the first kind of failure it finds
(after listing every problem of that kind). Needs PyYAML.
"""

import glob
import json
import os
import re
import subprocess
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - reported by test.sh before we get here
    sys.exit("PyYAML is missing (Debian: apt-get install python3-yaml)")

DEPLOY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(DEPLOY)
PA_NODES = ("pa1", "pa2")
UPLOAD_BYTES = 64 << 20


def path(*parts):
    return os.path.join(DEPLOY, *parts)


def load_yaml(*parts):
    with open(path(*parts)) as f:
        return yaml.safe_load(f)


def load_yaml_all(*parts):
    with open(path(*parts)) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


class Problems:
    def __init__(self):
        self.items = []

    def __call__(self, ok, message):
        if not ok:
            self.items.append(message)
        return ok

    def finish(self, summary):
        if self.items:
            for item in self.items:
                print(f"  - {item}")
            return 1
        print(summary)
        return 0


def files(*patterns):
    found = set()
    for pattern in patterns:
        found.update(glob.glob(path("**", pattern), recursive=True))
        found.update(glob.glob(path(pattern)))
    return sorted(f for f in found if "/node_modules/" not in f)


# ---------------------------------------------------------------- parse
def cmd_parse():
    check = Problems()
    ymls = files("*.yml", "*.yaml")
    jsons = files("*.json")
    for f in ymls:
        try:
            with open(f) as fh:
                list(yaml.safe_load_all(fh))
        except yaml.YAMLError as e:
            check(False, f"{os.path.relpath(f, DEPLOY)}: {e}")
    for f in jsons:
        try:
            with open(f) as fh:
                json.load(fh)
        except ValueError as e:
            check(False, f"{os.path.relpath(f, DEPLOY)}: {e}")
    return check.finish(f"{len(ymls)} YAML and {len(jsons)} JSON files parse")


# ---------------------------------------------------------------- compose
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def env_example():
    """Variables of .env.example: name -> value (commented-out ones too)."""
    out = {}
    with open(path(".env.example")) as f:
        for line in f:
            m = re.match(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
            if m:
                value = m.group(2)
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                out[m.group(1)] = value
    return out


def strings(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)
    elif isinstance(node, str):
        yield node


def env_map(env):
    if isinstance(env, list):
        return dict((e.split("=", 1) + [None])[:2] for e in env)
    return dict(env or {})


def cmd_compose():
    check = Problems()
    compose = load_yaml("docker-compose.yml")
    services = compose["services"]
    documented = env_example()
    used = set()
    for s in strings(compose):
        for m in VAR.finditer(s.replace("$$", "")):
            used.add(m.group(1))
    passthrough = set()
    for name, svc in services.items():
        for k, v in env_map(svc.get("environment")).items():
            if v is None:
                passthrough.add(k)
    for var in sorted(used | passthrough):
        check(var in documented, f".env.example does not document ${{{var}}} used in docker-compose.yml")
    for var in sorted(documented):
        check(var in used | passthrough, f".env.example documents {var}, which docker-compose.yml does not use")
    # Interpolation: every $ is $$ or a braced, well-formed ${…} (house style),
    # and a required ${VAR:?…} has a value in .env.example.
    for s in strings(compose):
        rest = VAR.sub("", s.replace("$$", ""))
        check("$" not in rest, f"docker-compose.yml: {s!r}: write ${VAR} (braced) or $$ for a literal $")
        for m in VAR.finditer(s.replace("$$", "")):
            if m.group(2) in (":?", "?"):
                check(documented.get(m.group(1)), f".env.example: required {m.group(1)} has no example value")

    networks = set(compose.get("networks") or {})
    volumes = set(compose.get("volumes") or {})
    for name, svc in services.items():
        where = f"service {name}"
        check("image" in svc, f"{where}: no image")
        hc = svc.get("healthcheck") or {}
        one_shot = str(svc.get("restart", "")).strip() == "no"
        if one_shot:
            waited_for = any(
                isinstance(cond, dict) and cond.get("condition") == "service_completed_successfully"
                for other in services.values()
                for dep, cond in (other.get("depends_on") or {}).items()
                if dep == name
            )
            check(waited_for, f"{where}: a one-shot nobody waits for")
        else:
            check(hc.get("test") and not hc.get("disable"), f"{where}: no healthcheck")
            check(svc.get("restart") == "unless-stopped", f"{where}: restart is not unless-stopped")
        for net in svc.get("networks") or []:
            check(net in networks, f"{where}: unknown network {net}")
        for dep, cond in (svc.get("depends_on") or {}).items():
            check(dep in services, f"{where}: depends on unknown service {dep}")
            if dep in services and isinstance(cond, dict) and cond.get("condition") == "service_healthy":
                check(bool((services[dep].get("healthcheck") or {}).get("test")),
                      f"{where}: waits for {dep} to be healthy, which has no healthcheck")
        for mount in svc.get("volumes") or []:
            source = mount.split(":", 1)[0]
            if source.startswith("./"):
                check(os.path.exists(path(source)), f"{where}: mounts {source}, which does not exist")
            elif not source.startswith("/"):
                check(source in volumes, f"{where}: unknown volume {source}")
        for port in svc.get("ports") or []:
            host = str(port).split(":")
            if name != "nginx":
                check(host[0] == "127.0.0.1", f"{where}: publishes {port} beyond 127.0.0.1")
        profiles = svc.get("profiles") or []
        is_elk = name in ("elasticsearch", "logstash", "kibana", "filebeat")
        check(profiles == (["elk"] if is_elk else []), f"{where}: profiles {profiles}")

    for node in PA_NODES:
        svc = services.get(node) or {}
        env = env_map(svc.get("environment"))
        check(env.get("PA_DATABASE_URL", "").startswith("postgres://") and "@postgres:5432/" in env.get("PA_DATABASE_URL", ""),
              f"{node}: PA_DATABASE_URL is not the compose PostgreSQL")
        check(env.get("PA_REDIS_URL") == "redis://redis:6379", f"{node}: PA_REDIS_URL")
        check(env.get("PA_BLOB_URL", "").startswith("s3://") and env.get("AWS_ENDPOINT") == "http://minio:9000",
              f"{node}: PA_BLOB_URL is not the compose MinIO")
        check(env.get("PA_LISTEN") == "0.0.0.0:8080", f"{node}: PA_LISTEN")
        check(env.get("PA_LOG_FORMAT") == "json", f"{node}: PA_LOG_FORMAT is not json")
        check("PA_RATE_LIMIT_IP" not in env, f"{node}: PA_RATE_LIMIT_IP behind nginx limits everybody at once")
        check(f"${{PA_MAX_UPLOAD_BYTES:-{UPLOAD_BYTES}}}" == env.get("PA_MAX_UPLOAD_BYTES"),
              f"{node}: PA_MAX_UPLOAD_BYTES default is not {UPLOAD_BYTES}")
        mounts = svc.get("volumes") or []
        check(not any(m.endswith(":/data/blobs") for m in mounts), f"{node}: blobs belong in MinIO, not a volume")
        check(svc.get("build", {}).get("dockerfile") == "deploy/Dockerfile", f"{node}: not built from deploy/Dockerfile")
    check(services["pa1"].get("environment") is services["pa2"].get("environment")
          or env_map(services["pa1"].get("environment")) == env_map(services["pa2"].get("environment")),
          "pa1 and pa2 have different environments")
    check(documented.get("PA_MAX_UPLOAD_BYTES") == str(UPLOAD_BYTES), ".env.example: PA_MAX_UPLOAD_BYTES")

    # nginx and Prometheus point at the compose nodes.
    with open(path("nginx", "conf.d", "pa.conf")) as f:
        nginx = f.read()
    for upstream in ("pa", "pa_mcp"):
        block = re.search(r"upstream %s \{(.*?)\}" % upstream, nginx, re.S)
        servers = re.findall(r"^\s*server (\S+)", block.group(1), re.M) if block else []
        check(servers == [f"{n}:8080" for n in PA_NODES], f"nginx upstream {upstream}: servers {servers}")
    sizes = re.findall(r"location ~ \^/api/v1/tenants/.*?client_max_body_size (\d+)m;", nginx, re.S)
    check(sizes and int(sizes[0]) << 20 == UPLOAD_BYTES, f"nginx upload client_max_body_size {sizes}")
    prom = load_yaml("prometheus", "prometheus.yml")
    pa_jobs = [j for j in prom["scrape_configs"] if j["job_name"] == "pa"]
    targets = [t for j in pa_jobs for sc in j.get("static_configs", []) for t in sc["targets"]]
    check(targets == [f"{n}:8080" for n in PA_NODES], f"prometheus job pa targets {targets}")
    check(any("alertmanager:9093" in t for am in prom["alerting"]["alertmanagers"]
              for sc in am["static_configs"] for t in sc["targets"]), "prometheus does not send to alertmanager:9093")

    # The Dockerfile's contract.
    with open(path("Dockerfile")) as f:
        docker = f.read()
    for needle, what in [
        (r"^FROM rust:\$\{RUST_VERSION\}-\$\{DEBIAN_RELEASE\} AS builder", "rust builder stage"),
        (r"^ARG RUST_VERSION=1\.95$", "Rust 1.95"),
        (r"rustup target add wasm32-wasip2", "wasm32-wasip2 target"),
        (r"cargo build --release --locked -p pa-cli", "release build of pa-cli"),
        (r"^FROM debian:\$\{DEBIAN_RELEASE\}-slim", "debian slim runtime"),
        (r"ca-certificates", "CA certificates"),
        (r"^USER 10001:10001$", "non-root user"),
        (r"useradd .*\bpa\b", "user pa"),
        (r'^VOLUME \["/data"\]$', "/data volume"),
        (r"PA_LISTEN=0\.0\.0\.0:8080", "PA_LISTEN"),
        (r"PA_DATA_DIR=/data", "PA_DATA_DIR"),
        (r'^HEALTHCHECK .*\n.*CMD \["curl", "-fsS", .*"http://127\.0\.0\.1:8080/healthz"\]', "HEALTHCHECK on /healthz"),
        (r'^ENTRYPOINT \["pa"\]$', "ENTRYPOINT pa"),
        (r'^CMD \["serve"\]$', "CMD serve"),
    ]:
        check(re.search(needle, docker, re.M), f"Dockerfile: {what} missing")
    return check.finish(f"{len(services)} services, {len(used | passthrough)} variables documented, "
                        "nginx/Prometheus targets and the Dockerfile's contract agree")


# ---------------------------------------------------------------- metrics
def exposed_metrics():
    source = os.path.join(REPO, "host", "server", "src", "metrics.rs")
    with open(source) as f:
        text = f.read().split("#[cfg(test)]")[0]
    # Families are declared with the prometheus crate's `Opts::new` /
    # `HistogramOpts::new` or metrics.rs's helpers `counter`, `gauge`, `histogram`.
    names = set(re.findall(r'\b(?:Opts::new|HistogramOpts::new|IntCounter::new|counter|gauge|histogram)\(\s*"([a-z_:][a-z0-9_:]*)"', text))
    histograms = set(re.findall(r'\b(?:HistogramOpts::new|histogram)\(\s*"([a-z_:][a-z0-9_:]*)"', text))
    full = set(names)
    for h in histograms:
        full |= {h + "_bucket", h + "_sum", h + "_count"}
    return full


def dashboard_exprs():
    with open(path("grafana", "dashboards", "pa-overview.json")) as f:
        dash = json.load(f)
    out = []
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            out.append((panel["title"], target["expr"]))
    for var in dash["templating"]["list"]:
        q = var.get("query")
        if isinstance(q, dict) and q.get("query", "").startswith("label_values("):
            inner = re.match(r"label_values\((.*),\s*\w+\)$", q["query"]).group(1)
            out.append((f"variable {var['name']}", inner))
    return out


def grafana_to_promql(expr):
    for k, v in {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h"}.items():
        expr = expr.replace(k, v)
    return re.sub(r"\$\{?(\w+)\}?", ".*", expr)


def cmd_metrics():
    check = Problems()
    try:
        exposed = exposed_metrics()
    except OSError as e:
        print(f"  - cannot read pa's metrics: {e}")
        return 1
    check(exposed, "no metric found in host/server/src/metrics.rs")
    wanted = {}
    rules = load_yaml("prometheus", "alerts.yml")
    for group in rules["groups"]:
        for rule in group["rules"]:
            wanted[f"alert {rule['alert']}"] = rule["expr"]
    for title, expr in dashboard_exprs():
        wanted[f"dashboard {title}"] = expr
    count = 0
    for where, expr in wanted.items():
        for name in set(re.findall(r"\b(pa_[a-z0-9_]+)", expr)):
            count += 1
            check(name in exposed, f"{where}: {name} is not a metric of pa (host/server/src/metrics.rs)")
    return check.finish(f"{count} metric references in {len(wanted)} alert rules and dashboard queries; "
                        f"all among pa's {len(exposed)} series names")


# ---------------------------------------------------------------- alert tests
def cmd_alert_tests():
    check = Problems()
    alerts = [r["alert"] for g in load_yaml("prometheus", "alerts.yml")["groups"] for r in g["rules"] if "alert" in r]
    tests = load_yaml("prometheus", "alerts_test.yml")["tests"]
    fires, quiet = set(), set()
    for t in tests:
        for a in t.get("alert_rule_test", []):
            (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
    for alert in alerts:
        check(alert in fires, f"{alert}: no test where it fires")
        check(alert in quiet, f"{alert}: no test where it stays quiet")
    for name in fires | quiet:
        check(name in alerts, f"alerts_test.yml tests {name}, which alerts.yml does not define")
    return check.finish(f"{len(alerts)} alerts, each with a firing and a quiet test ({len(tests)} test cases)")


# ---------------------------------------------------------------- dashboard -> rules
def cmd_dashboard_rules(out):
    exprs = dashboard_exprs()
    rules = [{"record": f"dashboard:check:{i}", "expr": grafana_to_promql(expr)} for i, (_, expr) in enumerate(exprs)]
    with open(out, "w") as f:
        yaml.safe_dump({"groups": [{"name": "pa-overview-dashboard", "rules": rules}]}, f, sort_keys=False)
    with open(path("grafana", "dashboards", "pa-overview.json")) as f:
        dash = json.load(f)
    check = Problems()
    ids = [p["id"] for p in dash["panels"]]
    check(len(ids) == len(set(ids)), "dashboard: duplicate panel ids")
    check(dash.get("uid") == "pa-overview", "dashboard: uid")
    for p in dash["panels"]:
        ds = p.get("datasource")
        if p["type"] != "row":
            check(ds == {"type": "prometheus", "uid": "${datasource}"}, f"panel {p['title']}: datasource {ds}")
    providers = load_yaml("grafana", "provisioning", "dashboards", "dashboards.yml")["providers"]
    check(providers[0]["options"]["path"] == "/etc/grafana/dashboards", "dashboard provider path")
    sources = load_yaml("grafana", "provisioning", "datasources", "datasources.yml")["datasources"]
    check(any(s["uid"] == "prometheus" and s["url"] == "http://prometheus:9090" for s in sources), "Prometheus data source")
    return check.finish(f"{len(rules)} dashboard queries written to {out}")


# ---------------------------------------------------------------- alertmanager
def cmd_render_alertmanager(out):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERT_")}
    env.update({k: v for k, v in env_example().items() if k.startswith("ALERT_")})
    env["RENDER_ONLY"] = "1"
    script = path("alertmanager", "render-config.sh")
    result = subprocess.run(["sh", script, path("alertmanager", "alertmanager.yml"), out], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        print("  - render-config.sh failed: " + result.stderr.strip())
        return 1
    with open(out) as f:
        rendered = f.read()
    check = Problems()
    body = "\n".join(line for line in rendered.splitlines() if not line.lstrip().startswith("#"))
    check("${" not in body, "a placeholder is left in the rendered configuration")
    check(env["ALERT_SLACK_WEBHOOK_URL"] in rendered, "Slack URL not filled in")
    # A missing variable must fail loudly, naming it.
    del env["ALERT_EMAIL_TO"]
    result = subprocess.run(["sh", script, path("alertmanager", "alertmanager.yml"), out + ".missing"], env=env,
                            capture_output=True, text=True)
    check(result.returncode != 0 and "ALERT_EMAIL_TO" in result.stderr,
          "render-config.sh does not fail on an unset variable")
    check(not os.path.exists(out + ".missing"), "render-config.sh left a file behind after failing")
    return check.finish(f"rendered {out} from .env.example; an unset variable is refused")


# ---------------------------------------------------------------- k8s
def cmd_k8s():
    check = Problems()
    docs = {}
    for f in sorted(glob.glob(path("k8s", "*.yaml"))):
        name = os.path.basename(f)
        if name == "kustomization.yaml":
            continue
        for d in load_yaml_all("k8s", name):
            docs[(d["kind"], d["metadata"]["name"])] = (name, d)
    kust = load_yaml("k8s", "kustomization.yaml")
    for r in kust["resources"]:
        check(os.path.exists(path("k8s", r)), f"kustomization: {r} does not exist")
    check("secret.example.yaml" not in kust["resources"], "kustomization applies the example Secret")
    listed = set(kust["resources"]) | {"secret.example.yaml"}
    for name in {n for n, _ in docs.values()}:
        check(name in listed, f"kustomization does not list {name}")
    for (kind, name), (_, d) in docs.items():
        check(d["metadata"].get("namespace") == "powerautomation" or kind == "Namespace",
              f"{kind}/{name}: not in namespace powerautomation")

    _, dep = docs[("Deployment", "pa")]
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    check(spec["replicas"] == 2, "Deployment: replicas != 2")
    check(all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()), "Deployment: selector")
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 10001, "Deployment: pod not non-root 10001")
    (c,) = pod["containers"]
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True, "Deployment: root filesystem writable")
    check(sc.get("allowPrivilegeEscalation") is False and sc.get("capabilities", {}).get("drop") == ["ALL"],
          "Deployment: privileges not dropped")
    check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "Deployment: liveness probe not /healthz")
    check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "Deployment: readiness probe not /readyz")
    check(c.get("resources", {}).get("requests", {}).get("cpu") and c["resources"].get("limits", {}).get("memory"),
          "Deployment: resources")
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    check({"/data", "/tmp"} <= mounts, "Deployment: /data and /tmp must be writable volumes (read-only root)")
    refs = [("ConfigMap", e["configMapRef"]["name"]) for e in c["envFrom"] if "configMapRef" in e]
    refs += [("Secret", e["secretRef"]["name"]) for e in c["envFrom"] if "secretRef" in e]
    for ref in refs:
        check(ref in docs, f"Deployment: envFrom {ref[0]}/{ref[1]} is not defined")
    for v in pod.get("volumes", []):
        if "persistentVolumeClaim" in v:
            check(("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"]) in docs, f"Deployment: PVC {v}")
    port_names = {p["name"] for p in c["ports"]}
    _, cm = docs[("ConfigMap", "pa-config")]
    check(cm["data"].get("PA_LISTEN") == "0.0.0.0:8080", "ConfigMap: PA_LISTEN")
    check(cm["data"].get("PA_MAX_UPLOAD_BYTES") == str(UPLOAD_BYTES), "ConfigMap: PA_MAX_UPLOAD_BYTES")
    _, secret = docs[("Secret", "pa-secrets")]
    check({"PA_DATABASE_URL", "PA_SECRET_KEY", "PA_ADMIN_TOKEN"} <= set(secret["stringData"]), "Secret: keys")

    services = {name: d for (kind, name), (_, d) in docs.items() if kind == "Service"}
    for name, svc in services.items():
        check(all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()), f"Service {name}: selects no pod")
        for p in svc["spec"]["ports"]:
            check(p["targetPort"] in port_names, f"Service {name}: targetPort {p['targetPort']}")
    routed = []
    for (kind, name), (_, d) in docs.items():
        if kind != "Ingress":
            continue
        ann = d["metadata"].get("annotations", {})
        for rule in d["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                routed.append(p["path"])
                backend = p["backend"]["service"]
                check(backend["name"] in services, f"Ingress {name}: unknown service {backend['name']}")
                svc_ports = {sp["name"] for sp in services.get(backend["name"], {"spec": {"ports": []}})["spec"]["ports"]}
                check(backend["port"].get("name") in svc_ports, f"Ingress {name}: unknown port {backend['port']}")
        if "non_idempotent" in ann.get("nginx.ingress.kubernetes.io/proxy-next-upstream", ""):
            check(False, f"Ingress {name}: retries non-idempotent requests")
    check(not any(p.startswith("/metrics") or p == "/" for p in routed), f"Ingress routes /metrics: {routed}")
    _, ing = docs[("Ingress", "pa")]
    check(ing["metadata"]["annotations"].get("nginx.ingress.kubernetes.io/proxy-body-size") == "64m",
          "Ingress pa: proxy-body-size for uploads is not 64m")
    _, mcp = docs[("Ingress", "pa-mcp")]
    check(mcp["metadata"]["annotations"].get("nginx.ingress.kubernetes.io/proxy-buffering") == "off",
          "Ingress pa-mcp: buffering")
    _, hpa = docs[("HorizontalPodAutoscaler", "pa")]
    check(hpa["spec"]["scaleTargetRef"]["name"] == "pa" and hpa["spec"]["minReplicas"] >= 2, "HPA target/min")
    check(any(m["resource"]["name"] == "cpu" for m in hpa["spec"]["metrics"]), "HPA: not on CPU")
    _, pdb = docs[("PodDisruptionBudget", "pa")]
    check(all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items()), "PDB selects no pod")
    return check.finish(f"{len(docs)} resources: references, probes, security context, routes (no /metrics)")


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    cmd, rest = args[0], args[1:]
    table = {
        "parse": cmd_parse,
        "compose": cmd_compose,
        "metrics": cmd_metrics,
        "alert-tests": cmd_alert_tests,
        "dashboard-rules": cmd_dashboard_rules,
        "render-alertmanager": cmd_render_alertmanager,
        "k8s": cmd_k8s,
    }
    if cmd not in table:
        sys.exit(__doc__)
    return table[cmd](*rest)


if __name__ == "__main__":
    sys.exit(main())
