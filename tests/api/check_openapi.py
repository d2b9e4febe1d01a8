#!/usr/bin/env python3
"""Checks real API responses against docs/api/openapi.yaml (used by tests/api/api_server_test.cc).

  check_openapi.py OPENAPI responses.jsonl   validate every recorded response; exit 1 on any
                                             mismatch, printing each one
  check_openapi.py OPENAPI --roles           print the route table: "METHOD /pattern role,role"

Each line of responses.jsonl is {"method","route","status","body"}: the route pattern as
documented ("/v1/events/{seq}"), the HTTP status, and the body text. A response must be
documented for its route, method and status, and its body must validate against the schema.
"""
import json
import sys

import jsonschema
import yaml


GENERIC_ERRORS = (400, 404, 405, 408, 413, 414, 429, 431, 500, 503)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def main():
    spec = load(sys.argv[1])
    if sys.argv[2] == "--roles":
        for path, ops in spec["paths"].items():
            for method, op in ops.items():
                print(method.upper(), path, ",".join(op["x-roles"]))
        return 0
    resolver = jsonschema.RefResolver.from_schema(spec)
    failures = 0
    checked = 0
    with open(sys.argv[2], encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            r = json.loads(line)
            where = f"{r['method']} {r['route']} -> {r['status']}"
            op = spec["paths"].get(r["route"], {}).get(r["method"].lower())
            resp = op["responses"].get(str(r["status"])) if op else None
            if resp is None:
                # Errors any target can get before or instead of its route (malformed target,
                # no such route or method, limits, overload): the generic error envelope.
                if r["status"] in GENERIC_ERRORS:
                    resp = spec["components"]["responses"]["Error"]
                else:
                    print(f"line {n}: {where}: status not documented")
                    failures += 1
                    continue
            resp = resolve(spec, resp)
            schema = resp["content"]["application/json"]["schema"]
            try:
                body = json.loads(r["body"])
            except ValueError as e:
                print(f"line {n}: {where}: body is not JSON: {e}")
                failures += 1
                continue
            v = jsonschema.Draft202012Validator(schema, resolver=resolver)
            errors = sorted(v.iter_errors(body), key=lambda e: list(e.path))
            for e in errors[:3]:
                print(f"line {n}: {where}: {'/'.join(map(str, e.path))}: {e.message[:300]}")
            failures += 1 if errors else 0
            checked += 1
    print(f"checked {checked} responses, {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
