"""Turns evaluate stages' metrics.json files (one per seed, in seed order) into a Markdown table."""
import argparse
import json

parser = argparse.ArgumentParser()
parser.add_argument("--seeds", required=True, help="the seeds, as the JSON list the pipeline passes")
parser.add_argument("--out", required=True)
parser.add_argument("metrics", nargs="+")
args = parser.parse_args()

seeds = json.loads(args.seeds)
lines = ["| seed | train acc | test acc | test wrong | train CE | test CE |", "| --- | --- | --- | --- | --- | --- |"]
for seed, path in zip(seeds, args.metrics):
    with open(path) as f:
        m = json.load(f)
    lines.append(f"| {seed} | {m['train']['accuracy']:.6f} | {m['test']['accuracy']:.6f} | {m['test']['n_wrong']} "
                 f"| {m['train']['cross_entropy']:.3e} | {m['test']['cross_entropy']:.3e} |")
with open(args.out, "w") as f:
    f.write("\n".join(lines) + "\n")
