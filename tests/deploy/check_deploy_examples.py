#!/usr/bin/env python3
"""Checks the deployment examples keep what issue 18 fixed in them.

Kubernetes: no secret on the gateway's command line; the database password
comes from the Secret as PGPASSWORD, and the store URI holds none.
HAProxy and Envoy: short timeouts before authentication, limits on
connections, and established-connection idle timeouts of minutes, not hours
(the gateway pings open Subscribe streams). HAProxy's file is also checked by
haproxy -c when haproxy is installed.
"""
import os
import re
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", text)
    if not m:
        raise ValueError(f"not a duration: {text}")
    n, unit = int(m.group(1)), m.group(2) or "ms"
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def kubernetes():
    d = os.path.join(ROOT, "deploy", "kubernetes")
    deployment = yaml.safe_load(open(os.path.join(d, "deployment.yaml")))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    argv = container.get("command", []) + container.get("args", [])
    for arg in argv:
        check("$(" not in arg, f"kubernetes: {arg!r} expands an environment variable into argv")
        check("postgres" not in arg.lower() and "password" not in arg.lower(),
              f"kubernetes: {arg!r} puts the database on the command line")
    env = {e["name"]: e for e in container.get("env", [])}
    pw = env.get("PGPASSWORD", {}).get("valueFrom", {}).get("secretKeyRef")
    check(pw is not None, "kubernetes: PGPASSWORD does not come from a Secret")
    # Probes: HTTP on the metrics port, readiness on /readyz, which the
    # ConfigMap turns on; liveness on /healthz.
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe, path in (("startupProbe", "/readyz"), ("readinessProbe", "/readyz"),
                        ("livenessProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path and get.get("port") == "metrics",
              f"kubernetes: {probe} is not an HTTP GET of {path} on the metrics port")
    config = next(yaml.safe_load_all(open(os.path.join(d, "configmap.yaml"))))
    text = config["data"]["gateway.textproto"]
    m = re.search(r'metrics\s*{\s*listen_address:\s*"[^"]*:(\d+)"', text)
    check(m is not None and int(m.group(1)) == ports.get("metrics"),
          "kubernetes: the ConfigMap does not serve metrics on the probed port")
    # The image the Deployment names is the one the Containerfile builds:
    # non-root, the binary where the Deployment runs it.
    containerfile = open(os.path.join(ROOT, "deploy", "container", "Containerfile")).read()
    final = containerfile.split("\nFROM ")[-1]
    check(re.search(r"^USER 65532:65532$", final, re.M) is not None,
          "container: the runtime stage does not run as uid 65532")
    check(container["command"] == ["/usr/bin/safeshare-gateway"],
          "kubernetes: command is not the packaged /usr/bin/safeshare-gateway")
    stores = re.findall(r'^\s*store:\s*"([^"]*)"', text, re.M)
    check(stores, "kubernetes: gateway.textproto sets no store")
    for uri in stores:
        userinfo = uri.split("://", 1)[1].split("@", 1)[0] if "@" in uri else ""
        check(":" not in userinfo and "password=" not in uri,
              "kubernetes: the store URI carries a password")


def haproxy():
    path = os.path.join(ROOT, "deploy", "haproxy", "haproxy.cfg")
    lines = [l.split("#", 1)[0].strip() for l in open(path)]
    timeouts = {}
    for l in lines:
        m = re.fullmatch(r"timeout\s+(\S+)\s+(\S+)", l)
        if m and m.group(1) not in timeouts:  # the first: defaults
            timeouts[m.group(1)] = seconds(m.group(2))
    check(timeouts.get("client", 1e9) <= 60, "haproxy: timeout client over a minute")
    check(timeouts.get("server", 1e9) <= 60, "haproxy: timeout server over a minute")
    check(timeouts.get("tunnel", 1e9) <= 15 * 60, "haproxy: timeout tunnel over 15 minutes")
    delay = [seconds(l.split()[-1]) for l in lines if l.startswith("tcp-request inspect-delay")]
    check(delay and delay[0] <= 10, "haproxy: no ClientHello deadline (tcp-request inspect-delay)")
    check(any("req.ssl_hello_type" in l for l in lines), "haproxy: no ClientHello check")
    check(any(l.startswith("stick-table") and "conn_cur" in l and "conn_rate" in l for l in lines),
          "haproxy: no per-source stick table of connections and their rate")
    check(any("sc0_conn_cur" in l and "reject" in l for l in lines),
          "haproxy: no per-source connection limit")
    check(any("sc0_conn_rate" in l and "reject" in l for l in lines),
          "haproxy: no per-source connection rate limit")
    if shutil.which("haproxy"):
        r = subprocess.run(["haproxy", "-c", "-f", path], capture_output=True, text=True)
        check(r.returncode == 0, f"haproxy -c: {r.stdout}{r.stderr}")
    else:
        print("haproxy not installed: haproxy -c skipped")


def envoy():
    config = yaml.safe_load(open(os.path.join(ROOT, "deploy", "envoy", "envoy.yaml")))
    listener = config["static_resources"]["listeners"][0]
    check(seconds(listener.get("listener_filters_timeout", "15s")) <= 10,
          "envoy: listener_filters_timeout over 10 s")
    check(listener.get("continue_on_listener_filters_timeout") is False,
          "envoy: a connection that sends no ClientHello continues")
    names = [f["name"] for f in listener.get("listener_filters", [])]
    check("envoy.filters.listener.tls_inspector" in names, "envoy: no TLS inspector")
    check("envoy.filters.listener.local_ratelimit" in names, "envoy: no connection rate limit")
    chains = listener["filter_chains"]
    check(all(c.get("filter_chain_match", {}).get("transport_protocol") == "tls" for c in chains),
          "envoy: a filter chain takes connections that are not TLS")
    filters = {f["name"]: f["typed_config"] for c in chains for f in c["filters"]}
    check("envoy.filters.network.connection_limit" in filters, "envoy: no connection limit")
    proxy = filters.get("envoy.filters.network.tcp_proxy", {})
    check(seconds(proxy.get("idle_timeout", "3600s")) <= 15 * 60,
          "envoy: tcp_proxy idle_timeout over 15 minutes")


for f in (kubernetes, haproxy, envoy):
    try:
        f()
    except (OSError, KeyError, IndexError, TypeError, ValueError, yaml.YAMLError) as e:
        failures.append(f"{f.__name__}: {e!r}")
for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
