#!/usr/bin/env python3
"""Agreement test: docs/format/event.schema.json, the nhitrace decoder and a corpus must agree.

Every case in cases.jsonl says whether a native record is accepted or rejected. The script
checks that verdict twice:

  (a) against the JSON Schema (docs/format/event.schema.json, draft 2020-12), unless the case is
      marked "schema": "skip" because JSON Schema cannot express the rule (then the schema must
      still *disagree* with the expectation, so a skip that became unnecessary is reported);
  (b) against the real binary: the record is written as one line to a file and ingested with
      `nhitrace --store X ingest FILE --json` into a fresh store made by `nhitrace --store X init`.
      Accepted means stored (exit 0); rejected means quarantined (exit 3) and, when the case names
      a "field", the rejection message "FILE:1: <field>: <reason>" names that field.

It also ingests every line of the ```jsonl blocks of docs/format/event.md, which must all be
accepted by both, so the examples in the documentation stay valid.

Case format (one JSON object per line):
  expect      "accept" | "reject"
  why         what the case shows
  record      the record (any JSON value, serialised compactly as one line), or a string that is
              the line itself, for lines that are not a JSON value as such. In a string, the
              escapes \\udc80-\\udcff stand for the single bytes 0x80-0xFF (Python's
              "surrogateescape"), to write invalid UTF-8.
  field       (reject) the field path the decoder must name
  codec       "duplicate" | "blank": the line is neither stored nor quarantined, for that reason
  before      records ingested (and accepted) into the same store first
  schema      "skip", with schema_why: JSON Schema cannot express this rule
Long values are generated, anywhere inside a record:
  {"$gen": "repeat", "text": T, "count": N}   T repeated N times
  {"$gen": "list", "item": T, "count": N}     a list of N strings T0, T1, ...
  {"$gen": "nest", "depth": N}                N nested arrays

Usage: check_schema.py --nhitrace build/nhitrace [--schema F] [--cases F] [--docs F] [-j N] [-v]
Exit status 0 when everything agrees, 1 on any disagreement, 2 on a usage or setup problem.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CASE_KEYS = {"expect", "why", "record", "field", "codec", "before", "schema", "schema_why"}


def die(msg):
    print(f"check_schema: {msg}", file=sys.stderr)
    sys.exit(2)


try:
    import jsonschema
except ImportError:
    die("python3-jsonschema is not installed (scripts/setup.sh installs it)")


# ---------------------------------------------------------------------------------------------
# Corpus


def expand(value):
    """Replaces {"$gen": ...} objects by the values they describe."""
    if isinstance(value, dict):
        gen = value.get("$gen")
        if gen == "repeat":
            return value["text"] * value["count"]
        if gen == "list":
            return [f"{value['item']}{i}" for i in range(value["count"])]
        if gen == "nest":
            v = []
            for _ in range(value["depth"] - 1):
                v = [v]
            return v
        if gen is not None:
            raise ValueError(f"unknown $gen {gen!r}")
        return {k: expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v) for v in value]
    return value


def to_line(record):
    """The bytes of one input line (without the newline)."""
    if isinstance(record, str):
        return record.encode("utf-8", "surrogateescape")
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def load_cases(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            if not text.strip():
                continue
            where = f"{os.path.basename(path)}:{n}"
            try:
                c = json.loads(text)
            except ValueError as e:
                die(f"{where}: not JSON: {e}")
            bad = set(c) - CASE_KEYS
            if bad or c.get("expect") not in ("accept", "reject") or "record" not in c \
                    or not c.get("why"):
                die(f"{where}: a case needs expect (accept|reject), why and record"
                    + (f"; unknown keys {sorted(bad)}" if bad else ""))
            if c.get("schema") not in (None, "skip") or (c.get("schema") and not c.get("schema_why")):
                die(f"{where}: \"schema\" may only be \"skip\", with a schema_why")
            if c.get("codec") not in (None, "duplicate", "blank") or \
                    (c.get("codec") and c["expect"] != "accept"):
                die(f"{where}: \"codec\" may be \"duplicate\" or \"blank\", for accepted cases")
            c["where"] = where
            c["line"] = to_line(expand(c["record"]))
            c["before_lines"] = [to_line(expand(r)) for r in c.get("before", [])]
            cases.append(c)
    if not cases:
        die(f"{path}: no cases")
    return cases


def doc_examples(path):
    """Every non-blank line of the ```jsonl fenced blocks of a Markdown file."""
    lines, fence = [], None
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            stripped = text.strip()
            if stripped.startswith("```"):
                fence = None if fence is not None else stripped[3:].strip()
                continue
            if fence == "jsonl" and stripped:
                lines.append((f"{os.path.basename(path)}:{n}", text.rstrip("\n").encode("utf-8")))
    return lines


# ---------------------------------------------------------------------------------------------
# The schema's verdict


class DuplicateName(ValueError):
    pass


def _no_duplicates(pairs):
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise DuplicateName("duplicate member name")
    return dict(pairs)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def schema_verdict(validator, line):
    """("accept" | "reject" | "n/a", detail, paths) for one line as JSON Schema sees it; paths
    are the instance locations of the errors, as decoder-style field paths ("" for the record)."""
    if not line.strip(b" \t\r"):
        return "n/a", "blank line", []
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        return "reject", f"not UTF-8 ({e.reason})", [""]
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except DuplicateName as e:
        return "n/a", str(e), []
    except ValueError as e:
        return "reject", f"not JSON ({e})", [""]
    errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return "accept", "", []
    paths = []
    for e in errors:
        p = ""
        for part in e.absolute_path:
            p += f"[{part}]" if isinstance(part, int) else (f".{part}" if p else part)
        paths.append(p)
    e = errors[0]
    msg = e.message if len(e.message) < 160 else e.message[:157] + "..."
    return "reject", f"{paths[0] or '(record)'}: {msg}", paths


def within(path, field):
    """True when the schema error at `path` concerns the decoder's `field` (the same member or
    one that contains it, as 'required' and 'additionalProperties' errors sit on the parent)."""
    if field == "record":
        return path == ""
    return path == "" or field == path or field.startswith(path + ".") or \
        field.startswith(path + "[")


# ---------------------------------------------------------------------------------------------
# The decoder's verdict


# Stores are throwaway: keep them on a memory file system when there is one, where the fsync of
# every commit costs nothing.
TMP_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def clean_env():
    env = dict(os.environ)
    for k in ("NHITRACE_STORE", "NHITRACE_KEY_FILE"):
        env.pop(k, None)
    return env


def run(cmd, env):
    return subprocess.run(cmd, env=env, capture_output=True, timeout=120)


def init_store(nhitrace, tmp, env):
    store = os.path.join(tmp, "store.db")
    key = os.path.join(tmp, "store.key")
    r = run([nhitrace, "--store", store, "--key-file", key, "init", "--origin", "test/schema"], env)
    if r.returncode != 0:
        raise RuntimeError(f"nhitrace init failed (exit {r.returncode}): "
                           f"{r.stderr.decode(errors='replace').strip()}")
    return ["--store", store, "--key-file", key]


# A store `nhitrace init` made once (main() sets it); each case gets a copy of its files, which
# is what a fresh init would give it, at a fraction of the cost (under ASan a process start
# and the store's migrations take most of a case's time).
TEMPLATE_DIR = None


def new_store(nhitrace, tmp, env):
    if TEMPLATE_DIR is None:
        return init_store(nhitrace, tmp, env)
    for name in os.listdir(TEMPLATE_DIR):
        shutil.copy2(os.path.join(TEMPLATE_DIR, name), os.path.join(tmp, name))
    return ["--store", os.path.join(tmp, "store.db"), "--key-file", os.path.join(tmp, "store.key")]


def ingest(nhitrace, store_args, tmp, name, lines, env):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(b"".join(line + b"\n" for line in lines))
    r = run([nhitrace, *store_args, "ingest", path, "--format", "native", "--json", "--progress", "none"], env)
    try:
        summary = json.loads(r.stdout)
    except ValueError:
        summary = None
    return r.returncode, summary, r.stderr.decode("utf-8", "replace"), path


def codec_verdict(nhitrace, case, env):
    """("accept" | "reject" | "duplicate" | "blank" | "error", detail)."""
    try:
        return _codec_verdict(nhitrace, case, env)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        return "error", str(e)


def _codec_verdict(nhitrace, case, env):
    with tempfile.TemporaryDirectory(prefix="nhitrace-schema-", dir=TMP_DIR) as tmp:
        store = new_store(nhitrace, tmp, env)
        if case["before_lines"]:
            rc, s, err, _ = ingest(nhitrace, store, tmp, "before.jsonl", case["before_lines"], env)
            if rc != 0 or not s or s["accepted"] != len(case["before_lines"]):
                return "error", f"the 'before' records were not all accepted: {err.strip()}"
        rc, s, err, path = ingest(nhitrace, store, tmp, "case.jsonl", [case["line"]], env)
        if s is None or s.get("lines") != 1:
            return "error", f"ingest exit {rc}, no usable --json summary: {err.strip()[:300]}"
        counts = {k: s[k] for k in ("accepted", "duplicate", "quarantined", "blank")}
        got = [k for k, v in counts.items() if v == 1]
        if sum(counts.values()) != 1 or len(got) != 1:
            return "error", f"unexpected counts {counts}"
        got = got[0]
        want_rc = 3 if got == "quarantined" else 0
        if rc != want_rc:
            return "error", f"{got} but exit status {rc} (expected {want_rc})"
        if got == "quarantined":
            prefix = f"{path}:1: "
            msgs = [m for m in err.splitlines() if m.startswith(prefix)]
            if len(msgs) != 1:
                return "error", f"quarantined, but no single '{prefix}...' message: {err.strip()}"
            return "reject", msgs[0][len(prefix):]
        return {"accepted": "accept"}.get(got, got), ""


def check_docs(nhitrace, validator, examples, env):
    """Problems with the documentation's example lines (all must be accepted)."""
    try:
        return _check_docs(nhitrace, validator, examples, env)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        return [f"doc examples: {e}"]


def _check_docs(nhitrace, validator, examples, env):
    problems = []
    for where, line in examples:
        verdict, detail, _ = schema_verdict(validator, line)
        if verdict != "accept":
            problems.append(f"{where}: example rejected by the schema: {detail}")
    with tempfile.TemporaryDirectory(prefix="nhitrace-schema-docs-", dir=TMP_DIR) as tmp:
        store = new_store(nhitrace, tmp, env)
        rc, s, err, path = ingest(nhitrace, store, tmp, "examples.jsonl",
                                  [line for _, line in examples], env)
        if rc != 0 or not s or s["accepted"] != len(examples):
            for m in err.splitlines():
                m2 = re.match(re.escape(path) + r":(\d+): (.*)", m)
                if m2:
                    problems.append(f"{examples[int(m2.group(1)) - 1][0]}: example rejected by "
                                    f"nhitrace: {m2.group(2)}")
            if not problems:
                problems.append(f"doc examples: ingest exit {rc}, summary {s}, {err.strip()}")
    return problems


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nhitrace", required=True, help="path of the nhitrace binary")
    ap.add_argument("--schema", default=os.path.join(ROOT, "docs/format/event.schema.json"))
    ap.add_argument("--cases", default=os.path.join(HERE, "cases.jsonl"))
    ap.add_argument("--docs", default=os.path.join(ROOT, "docs/format/event.md"),
                    help="Markdown file whose ```jsonl lines must be accepted ('' to skip)")
    ap.add_argument("-j", "--jobs", type=int, default=8,
                    help="cases run in parallel (the work is mostly waiting for the binary)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = ap.parse_args()

    if not os.access(args.nhitrace, os.X_OK):
        die(f"{args.nhitrace}: not an executable (build the nhitrace target first)")
    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        die(f"{args.schema}: not a valid draft 2020-12 schema: {e}")
    validator = jsonschema.Draft202012Validator(schema)
    cases = load_cases(args.cases)
    env = clean_env()

    global TEMPLATE_DIR
    template = tempfile.TemporaryDirectory(prefix="nhitrace-schema-template-", dir=TMP_DIR)
    try:
        init_store(args.nhitrace, template.name, env)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        die(str(e))
    TEMPLATE_DIR = template.name

    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        codec = list(pool.map(lambda c: codec_verdict(args.nhitrace, c, env), cases))

    skipped = 0
    for case, (cv, cdetail) in zip(cases, codec):
        tag = f"{case['where']} ({case['why']})"
        expect = case["expect"]
        # (a) the schema
        sv, sdetail, spaths = schema_verdict(validator, case["line"])
        if case.get("schema") == "skip":
            skipped += 1
            if sv == expect:
                failures.append(f"{tag}: marked schema skip, but the schema now {sv}s it "
                                f"as expected: remove the skip")
        elif sv == "n/a":
            failures.append(f"{tag}: JSON Schema cannot judge this line ({sdetail}); "
                            f"mark the case \"schema\": \"skip\"")
        elif sv != expect:
            failures.append(f"{tag}: schema {sv}s, expected {expect}"
                            + (f": {sdetail}" if sdetail else ""))
        elif sv == "reject" and "field" in case and \
                not any(within(p, case["field"]) for p in spaths):
            failures.append(f"{tag}: schema rejects, but not at {case['field']!r}: {sdetail}")
        # (b) the decoder
        want = case.get("codec", expect)
        if cv != want:
            failures.append(f"{tag}: nhitrace {cv}s, expected {want}"
                            + (f": {cdetail}" if cdetail else ""))
        elif cv == "reject" and "field" in case and \
                not cdetail.startswith(case["field"] + ": "):
            failures.append(f"{tag}: nhitrace rejects, but names another field than "
                            f"{case['field']!r}: {cdetail}")
        if args.verbose:
            print(f"{case['where']}: {expect:6}  schema={sv if case.get('schema') != 'skip' else 'skip':6}"
                  f"  nhitrace={cv:9} {cdetail or case['why']}")

    doc_count = 0
    if args.docs:
        examples = doc_examples(args.docs)
        doc_count = len(examples)
        if not examples:
            failures.append(f"{args.docs}: no ```jsonl example lines found")
        else:
            failures.extend(check_docs(args.nhitrace, validator, examples, env))

    for f in failures:
        print(f"DISAGREEMENT {f}")
    status = "OK" if not failures else f"FAILED, {len(failures)} disagreement(s)"
    print(f"schema_agreement: {len(cases)} cases ({len(cases) - skipped} checked against the "
          f"schema, {skipped} beyond JSON Schema), all against nhitrace; {doc_count} doc "
          f"example lines: {status}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
