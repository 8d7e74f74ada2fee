#!/usr/bin/env python3
"""Checks measured figures against the budgets in scripts/budgets.tsv.

Usage: check_budgets.py BUDGETS.tsv README.md LOG...

Every `budget: ID VALUE UNIT` line in the logs is compared with its budget;
every budget needs at least one figure (a bench that did not measure is a
failure, not a pass); the README's "Measured budgets" table must state each
budget, with its limit, in the row the file names. Prints one line per
figure and exits 1 if anything missed.
"""
import re
import sys


def load(path):
    budgets = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 6 or parts[1] not in ("<=", ">="):
                sys.exit(f"{path}:{n}: want 6 tab-separated fields with op <= or >=, got {line!r}")
            bid, op, limit, unit, row, cell = parts
            budgets.append((bid, op, float(limit), unit, row, cell))
    return budgets


def figures(paths):
    seen = {}
    pat = re.compile(r"^budget: (\S+) (\S+) (\S+)$")
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = pat.match(line.strip())
                if m:
                    seen.setdefault(m.group(1), []).append((float(m.group(2)), m.group(3)))
    return seen


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__.strip().splitlines()[2])
    budgets = load(argv[1])
    readme = open(argv[2], encoding="utf-8").read()
    seen = figures(argv[3:])
    failed = []
    for bid, op, limit, unit, row, cell in budgets:
        if f"| {row} | {cell} |" not in readme:
            failed.append(f"README: no row `| {row} | {cell} |` for {bid}")
        elif f"{limit:,.0f}" not in cell and f"{limit:g}" not in cell:
            failed.append(f"README: the budget of {bid} says {cell!r}, not {op} {limit:g} {unit}")
        values = seen.get(bid, [])
        if not values:
            failed.append(f"{bid}: not measured (its bench failed or printed no `budget:` line)")
        for value, got_unit in values:
            ok = value <= limit if op == "<=" else value >= limit
            mark = "ok    " if ok and got_unit == unit else "MISSED"
            print(f"{mark} {bid}: {value:g} {got_unit} (budget {op} {limit:g} {unit})")
            if got_unit != unit:
                failed.append(f"{bid}: measured in {got_unit}, budget in {unit}")
            elif not ok:
                failed.append(f"{bid}: {value:g} {unit} misses {op} {limit:g} {unit}")
    # Figures with no budget are shown, not judged (a mistyped id still
    # fails: its budget is then not measured).
    for bid in sorted(set(seen) - {b[0] for b in budgets}):
        for value, got_unit in seen[bid]:
            print(f"info   {bid}: {value:g} {got_unit} (no budget)")
    if failed:
        print("\nbudgets FAILED:", file=sys.stderr)
        for f in failed:
            print(f"  {f}", file=sys.stderr)
        return 1
    print("\nevery budget met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
