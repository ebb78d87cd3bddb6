"""Checks deploy/monitoring (called by .ci/validate-monitoring, which runs promtool on
what this writes):

  extract OUT   writes OUT/rules.yaml (the PrometheusRule's spec, a plain rules file),
                OUT/prometheus-rule.test.yaml (the unit tests, next to it) and
                OUT/dashboard-exprs.yaml (every dashboard query as a recording rule,
                Grafana's variables filled in, so promtool parses its PromQL);
                and checks the dashboard's JSON and the PodMonitors on the way.

Every failure names the file and what is wrong; the exit code is the number of them.
"""
import json
import os
import re
import sys

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MON = os.path.join(ROOT, "deploy", "monitoring")
OURS = re.compile(r"\b(?:connect_sentinel|kafka_connect)_[a-z0-9_]+")
errors = []


def fail(where, what):
    errors.append(f"{where}: {what}")


def load_yaml(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def rules(out):
    path = os.path.join(MON, "prometheus-rule.yaml")
    [rule] = load_yaml(path)
    if rule.get("apiVersion") != "monitoring.coreos.com/v1" or rule.get("kind") != "PrometheusRule":
        fail(path, "expected one monitoring.coreos.com/v1 PrometheusRule")
    groups = rule.get("spec", {}).get("groups") or []
    alerts = [r.get("alert") for g in groups for r in g.get("rules", [])]
    for r in (r for g in groups for r in g.get("rules", [])):
        for key in ("summary", "description"):
            if not r.get("annotations", {}).get(key):
                fail(path, f"alert {r.get('alert')} has no {key} annotation")
        if "severity" not in r.get("labels", {}):
            fail(path, f"alert {r.get('alert')} has no severity label")
        if not OURS.search(r.get("expr", "")):
            fail(path, f"alert {r.get('alert')} uses none of connect-sentinel's metrics")
    with open(os.path.join(out, "rules.yaml"), "w") as f:
        yaml.safe_dump(rule["spec"], f, sort_keys=False)
    test = os.path.join(MON, "prometheus-rule.test.yaml")
    with open(test) as f:
        text = f.read()
    tested = set(re.findall(r"alertname:\s*(\S+)", text))
    for alert in alerts:
        if alert not in tested:
            fail(test, f"alert {alert} has no unit test")
    with open(os.path.join(out, "prometheus-rule.test.yaml"), "w") as f:
        f.write(text)


def panels(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


# Grafana's variables, filled in so that promtool can parse the query.
VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def fill(expr):
    for k, v in VARIABLES.items():
        expr = expr.replace(k, v)
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", ".*", expr)


def dashboard(out):
    path = os.path.join(MON, "grafana-dashboard.json")
    with open(path) as f:
        d = json.load(f)
    for key in ("title", "uid", "schemaVersion", "panels", "templating"):
        if key not in d:
            fail(path, f"no {key!r}")
    ids, recorded = set(), []
    for p in panels(d):
        where = f"{path}: panel {p.get('id')} {p.get('title')!r}"
        if p.get("id") in ids:
            fail(where, "duplicate panel id")
        ids.add(p.get("id"))
        grid = p.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in "hwxy") or grid["x"] + grid["w"] > 24:
            fail(where, f"gridPos {grid} is not within the 24 columns")
        if p.get("type") == "row":
            continue
        if not p.get("title") or not p.get("targets"):
            fail(where, "needs a title and targets")
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            if not OURS.search(expr):
                fail(where, f"query {t.get('refId')} uses none of connect-sentinel's metrics: {expr}")
            recorded.append({"record": f"dashboard:panel_{p['id']}_{t.get('refId')}", "expr": fill(expr)})
    for v in d.get("templating", {}).get("list", []):
        query = v.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        m = re.fullmatch(r"label_values\((.+),\s*([a-z_]+)\)", query or "")
        if v.get("type") == "query":
            if not m:
                fail(path, f"variable {v.get('name')}: expected label_values(SELECTOR, LABEL): {query}")
                continue
            recorded.append({"record": f"dashboard:variable_{v['name']}", "expr": fill(m.group(1))})
    with open(os.path.join(out, "dashboard-exprs.yaml"), "w") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}, f, sort_keys=False)
    print(f"dashboard: {len(ids)} panels, {len(recorded)} queries")


def pod_monitors():
    path = os.path.join(MON, "pod-monitors.yaml")
    deployments = {}
    for d in ("sidecar", "reconciler"):
        for doc in load_yaml(os.path.join(ROOT, "deploy", d, "deployment.yaml")):
            if doc.get("kind") == "Deployment":
                deployments[doc["metadata"]["name"]] = doc["spec"]["template"]
    for pm in load_yaml(path):
        name = pm.get("metadata", {}).get("name")
        if pm.get("apiVersion") != "monitoring.coreos.com/v1" or pm.get("kind") != "PodMonitor":
            fail(path, f"{name}: expected a monitoring.coreos.com/v1 PodMonitor")
            continue
        wanted = pm["spec"]["selector"]["matchLabels"]
        matched = [t for t in deployments.values()
                   if wanted.items() <= t["metadata"].get("labels", {}).items()]
        if len(matched) != 1:
            fail(path, f"{name}: selector {wanted} matches {len(matched)} of deploy/'s pod templates, not 1")
            continue
        ports = {p.get("name") for c in matched[0]["spec"]["containers"] for p in c.get("ports", [])}
        for e in pm["spec"]["podMetricsEndpoints"]:
            if e.get("port") not in ports:
                fail(path, f"{name}: port {e.get('port')!r} is none of the pod's ports {sorted(ports)}")
            if e.get("path") != "/metrics":
                fail(path, f"{name}: path {e.get('path')!r} is not /metrics")


def main():
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rules(out)
    dashboard(out)
    pod_monitors()
    for e in errors:
        print(f"FAIL {e}", file=sys.stderr)
    sys.exit(len(errors))


if __name__ == "__main__":
    main()
