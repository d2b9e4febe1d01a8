#!/usr/bin/env python3
"""Checks a workload written by nhitrace-gen against its own ground truth.

A naive, independent reconciliation over the JSON Lines (grant chains by correlation key, scope
and window from the successful provision, revocation and expiry by identity) must find exactly
the breaks listed in the --truth file: no more (the unbroken chains are clean) and no fewer. It
is a check of the generator, and the reference a real reconciliation's detection rate is
measured against.

    nhitrace-gen --events 200000 --out ev.jsonl --truth truth.jsonl
    bench/check_workload.py ev.jsonl truth.jsonl
"""
import json
import sys
from collections import defaultdict
from datetime import datetime


def ns(t):
    """RFC 3339 -> integer nanoseconds (fraction kept to 9 digits)."""
    frac = 0
    base = t
    if "." in t:
        head, rest = t.split(".", 1)
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        frac = int((rest[:i] + "000000000")[:9])
        base = head + rest[i:]
    dt = datetime.fromisoformat(base.replace("Z", "+00:00").replace("z", "+00:00"))
    return int(dt.timestamp()) * 1_000_000_000 + frac


def covered(resource, patterns):
    for p in patterns:
        if p.endswith("*") and resource.startswith(p[:-1]):
            return True
        if resource == p:
            return True
    return False


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    requests, approvals, provisions = set(), {}, defaultdict(list)
    grants = {}  # identity -> (corr, resources, permissions, not_after_ns)
    revoked, expired = {}, {}
    actions = []
    for line in open(sys.argv[1], encoding="utf-8"):
        e = json.loads(line)
        k, corr, ident = e["kind"], e.get("correlation_key"), e.get("identity")
        eid = e["source"]["event_id"]
        if k == "request":
            requests.add(corr)
        elif k == "approval":
            approvals[corr] = eid
        elif k == "provision":
            ok = e.get("outcome", {}).get("result") == "success"
            provisions[corr].append((ok, eid))
            if ok:
                sc = e.get("scope", {})
                grants[ident] = (corr, sc.get("resources", []), set(sc.get("permissions", [])),
                                 ns(e["window"]["not_after"]))
        elif k == "revocation":
            revoked[ident] = ns(e["time"])
        elif k == "expiry":
            expired[ident] = ns(e["time"])
        elif k == "action":
            actions.append((ident, ns(e["time"]), e["scope"]["resources"][0],
                            e["scope"]["permissions"][0], eid))

    found = defaultdict(set)  # break -> {(corr, event_id)}
    for corr, eid in approvals.items():
        if not provisions.get(corr):
            found["approval_never_provisioned"].add((corr, eid))
    for corr, ps in provisions.items():
        if corr not in requests:
            for ok, eid in ps:
                found["provision_without_request"].add((corr, eid))
    no_grant = 0
    for ident, t, res, perm, eid in actions:
        g = grants.get(ident)
        if g is None:
            no_grant += 1
            continue
        corr, resources, perms, not_after = g
        if ident in revoked and t > revoked[ident]:
            found["action_after_revocation"].add((corr, eid))
        elif t > not_after:
            found["action_after_expiry"].add((corr, eid))
        elif not covered(res, resources) or perm not in perms:
            found["action_outside_scope"].add((corr, eid))

    truth = defaultdict(set)
    for line in open(sys.argv[2], encoding="utf-8"):
        t = json.loads(line)
        for eid in t["events"]:
            truth[t["break"]].add((t["correlation_key"], eid))

    ok = no_grant == 0
    print(f"actions without a grant: {no_grant}")
    for kind in sorted(set(found) | set(truth)):
        f, t = found[kind], truth[kind]
        chains = len({c for c, _ in t})
        status = "ok" if f == t else "MISMATCH"
        ok = ok and f == t
        print(f"{kind}: truth {chains} chains / {len(t)} events, found {len(f)} events, "
              f"missed {len(t - f)}, extra {len(f - t)}: {status}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
