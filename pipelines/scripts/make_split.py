"""Writes the (a, b) pairs mod p split into train and test for one seed.

Reads nothing; writes a JSON file with the split sizes and the pair indices in shuffled order.
Used by pipelines/main.json as a small, real example of a `command` stage.
"""
import argparse
import json
import random

parser = argparse.ArgumentParser()
parser.add_argument("--p", type=int, required=True)
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--train-fraction", type=float, required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

n = args.p * args.p
order = list(range(n))
random.Random(args.seed).shuffle(order)
n_train = int(n * args.train_fraction)
with open(args.out, "w") as f:
    json.dump({"p": args.p, "seed": args.seed, "n_train": n_train, "n_test": n - n_train,
               "train": order[:n_train], "test": order[n_train:]}, f)
