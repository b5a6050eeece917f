#!/usr/bin/env python3
"""Puts the protos' schemas (written by openapi_test when they differ) into
agents/connector/openapi.json, keeping the hand-written Problem schema."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "agents", "connector", "openapi.json")

generated = json.load(open(sys.argv[1]))
doc = json.load(open(DOC))
schemas = {"Problem": doc["components"]["schemas"]["Problem"]}
schemas.update(dict(sorted(generated.items())))
doc["components"]["schemas"] = schemas
open(DOC, "w").write(json.dumps(doc, indent=2) + "\n")
print(f"{DOC}: {len(schemas)} schemas")
