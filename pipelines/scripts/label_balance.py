"""Counts how often each label (a + b) mod p occurs in a split's train set."""
import json
import sys

split_path, out_path = sys.argv[1], sys.argv[2]
with open(split_path) as f:
    split = json.load(f)
p = split["p"]
counts = [0] * p
for index in split["train"]:
    a, b = divmod(index, p)
    counts[(a + b) % p] += 1
mean = sum(counts) / p
with open(out_path, "w") as f:
    json.dump({"seed": split["seed"], "n_train": split["n_train"], "n_test": split["n_test"],
               "min_count": min(counts), "max_count": max(counts), "mean_count": mean,
               "missing_labels": sum(1 for c in counts if c == 0)}, f, indent=2)
