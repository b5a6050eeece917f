#!/usr/bin/env python3
"""Fails when an #include crosses the layering in docs/architecture.md.

Each source folder may include only the project folders listed for it (or,
where a folder lists what it may not include, anything but those). Generated
protos ("safeshare/v1/...") and third-party headers are always allowed.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = ("common", "transparency", "verification", "envelope", "policy", "gateway", "agents")

# Most specific folder first. ("only", {...}): allowed project folders;
# ("never", {...}): forbidden ones.
RULES = [
    ("common", "only", {"common"}),
    ("transparency", "only", {"common", "transparency"}),
    # Offline checks of the log, for agencies, officers and the gateway's restore.
    ("verification", "only", {"common", "transparency", "verification"}),
    ("envelope", "only", {"common", "transparency", "envelope"}),
    ("policy", "only", {"common", "policy"}),
    # The web stack knows nothing of safeshare's messages; the connector
    # and the console build on the agent; only the CLI starts them.
    ("agents/web", "only", {"common", "agents/web"}),
    ("agents/connector", "only", {"common", "transparency", "verification", "envelope", "policy", "agents",
                                  "agents/web", "agents/connector"}),
    # The IG console is the connector's sibling: neither knows the other.
    ("agents/console", "only", {"common", "transparency", "verification", "envelope", "policy", "agents",
                                "agents/web", "agents/console"}),
    ("agents/cli", "only", {"common", "transparency", "verification", "envelope", "policy", "agents",
                            "agents/web", "agents/connector", "agents/console"}),
    ("agents", "only", {"common", "transparency", "verification", "envelope", "policy", "agents"}),
    ("gateway/store", "only", {"common", "transparency", "gateway/store"}),
    # Witnessing speaks to peers over HTTPS: the log and the store, nothing
    # of messages or policy.
    ("gateway/witnessing", "only", {"common", "transparency", "envelope", "gateway/store",
                                    "gateway/witnessing"}),
    # The metrics registry and its port know nothing of what they count.
    ("gateway/metrics", "only", {"common", "gateway/metrics"}),
    # Routing to peer federations builds on the services (a forwarded
    # message is decided as a Submit is); nothing below knows of it.
    ("gateway/peering", "never", {"agents"}),
    ("gateway/services", "never", {"gateway/peering", "agents"}),
    ("gateway/audit", "never", {"gateway/services", "gateway/delivery", "gateway/peering",
                                "agents"}),
    ("gateway/delivery", "never", {"gateway/services", "gateway/peering", "agents"}),
    ("gateway", "never", {"agents"}),
]

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    """The project folder an included path names: gateway/<sub> or top level."""
    parts = path.split("/")
    if parts[0] not in PROJECT:
        return None
    if parts[0] == "gateway" and len(parts) > 2:
        return "gateway/" + parts[1]
    if parts[0] == "agents" and len(parts) > 2 and parts[1] in ("web", "connector", "console"):
        return "agents/" + parts[1]
    return parts[0]


def allowed(rule, included):
    folder, kind, names = rule
    if kind == "only":
        if included in ("agents/web", "agents/connector", "agents/console"):
            return included in names  # named on their own, not as part of agents/
        return included in names or any(included.startswith(n + "/") for n in names)
    top = included.split("/")[0]
    return included not in names and top not in names


# Names that only tests may use, and the one place that declares each.
TEST_ONLY = {
    # The deterministic sealing path (fixed ephemeral key and nonce) for the
    # published test vectors: a program that reached it could reuse a nonce.
    "TestVectorSealer": "envelope/sealing.h",
}


def test_only_names():
    problems = []
    for dirpath, _, files in os.walk(ROOT):
        rel_dir = os.path.relpath(dirpath, ROOT)
        # Programs are built from the project folders and bench/.
        if rel_dir.split(os.sep)[0] not in PROJECT + ("bench",):
            continue
        for name in files:
            if not name.endswith((".h", ".cc")):
                continue
            rel = os.path.join(rel_dir, name).replace(os.sep, "/")
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                text = f.read()
            for word, home in TEST_ONLY.items():
                if word in text and rel != home:
                    problems.append(f"{rel}: {word} is for tests only (declared in {home})")
    return problems


def main():
    problems = []
    for dirpath, _, files in os.walk(ROOT):
        rel_dir = os.path.relpath(dirpath, ROOT)
        top = rel_dir.split(os.sep)[0]
        if top not in PROJECT:
            continue
        for name in files:
            if not name.endswith((".h", ".cc")):
                continue
            rel = os.path.join(rel_dir, name).replace(os.sep, "/")
            rule = next((r for r in RULES if rel.startswith(r[0] + "/")), None)
            if rule is None:
                continue
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    included = layer_of(m.group(1))
                    if included is not None and not allowed(rule, included):
                        problems.append(f"{rel}:{number}: {rule[0]}/ may not include "
                                        f"{m.group(1)} (see docs/architecture.md, Layers)")
    problems += test_only_names()
    for p in problems:
        print(p)
    print(f"layering: {len(problems)} crossing(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
