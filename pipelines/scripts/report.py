"""Turns every seed's label balance into one Markdown table."""
import argparse
import json

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("balances", nargs="+")
args = parser.parse_args()

rows = []
for path in args.balances:
    with open(path) as f:
        rows.append(json.load(f))
rows.sort(key=lambda r: r["seed"])
lines = ["| seed | train | test | min label count | max label count | labels missing |",
         "| --- | --- | --- | --- | --- | --- |"]
for r in rows:
    lines.append(f"| {r['seed']} | {r['n_train']} | {r['n_test']} | {r['min_count']} | {r['max_count']} | {r['missing_labels']} |")
with open(args.out, "w") as f:
    f.write("\n".join(lines) + "\n")
