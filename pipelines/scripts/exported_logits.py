"""Logits of a model written by the `export` stage, computed with numpy from its files alone.

    python3 exported_logits.py EXPORTED_DIR '[[a, b, eq], ...]'

Reads config.json, then model.safetensors with the `safetensors` package
(`safetensors.numpy.load_file`) and model.pt with `torch.load(..., weights_only=True)`, or,
without torch, with `zipfile` and a `pickle.Unpickler` that maps only `collections.OrderedDict`,
`torch._utils._rebuild_tensor_v2` and the two storage classes the export uses (FloatStorage,
BoolStorage for the causal mask) to numpy builders, so the pickle can call nothing else.
Checks each state dict's keys, shapes and dtypes against the TransformerLens layout, then runs
the forward pass in float64 (embed + pos_embed, attention with the exported causal mask and
IGNORE, ReLU MLP, unembed) and prints JSON: per file, its loader, its keys and the logits at the
last position of each sequence; whether the two files hold identical arrays; and "notes" on
what was skipped because a package is missing. Exits 2 if numpy is missing, 1 if a check fails.
Used by Tests/ModelTests/TransformerLensExportTests.swift.
"""
import collections
import json
import os
import pickle
import sys
import zipfile

try:
    import numpy as np
except ImportError:
    print("numpy is not installed", file=sys.stderr)
    sys.exit(2)


def expected_layout(cfg):
    """Key -> (shape, dtype) of HookedTransformer.state_dict() for this config, in its order."""
    d, h, dh, m, n = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["d_mlp"], cfg["n_ctx"]
    f = np.dtype(np.float32)
    return collections.OrderedDict([
        ("embed.W_E", ((cfg["d_vocab"], d), f)), ("pos_embed.W_pos", ((n, d), f)),
        ("blocks.0.attn.W_Q", ((h, d, dh), f)), ("blocks.0.attn.W_K", ((h, d, dh), f)),
        ("blocks.0.attn.W_V", ((h, d, dh), f)), ("blocks.0.attn.W_O", ((h, dh, d), f)),
        ("blocks.0.attn.b_Q", ((h, dh), f)), ("blocks.0.attn.b_K", ((h, dh), f)),
        ("blocks.0.attn.b_V", ((h, dh), f)), ("blocks.0.attn.b_O", ((d,), f)),
        ("blocks.0.attn.mask", ((n, n), np.dtype(np.bool_))), ("blocks.0.attn.IGNORE", ((), f)),
        ("blocks.0.mlp.W_in", ((d, m), f)), ("blocks.0.mlp.b_in", ((m,), f)),
        ("blocks.0.mlp.W_out", ((m, d), f)), ("blocks.0.mlp.b_out", ((d,), f)),
        ("unembed.W_U", ((d, cfg["d_vocab_out"]), f)), ("unembed.b_U", ((cfg["d_vocab_out"],), f)),
    ])


def check_layout(name, weights, cfg, ordered):
    layout = expected_layout(cfg)
    keys = list(weights.keys())
    if (keys if ordered else sorted(keys)) != (list(layout) if ordered else sorted(layout)):
        sys.exit(f"{name}: keys {keys} are not the TransformerLens state dict {list(layout)}")
    for key, (shape, dtype) in layout.items():
        a = weights[key]
        if tuple(a.shape) != shape or a.dtype != dtype:
            sys.exit(f"{name}: {key} is {a.dtype} {tuple(a.shape)}, expected {dtype} {shape}")


class StorageType:
    """What `torch.<Type>Storage` stands for here: only its element type."""

    def __init__(self, dtype):
        self.dtype = dtype


def rebuild_tensor(storage, offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """torch._utils._rebuild_tensor_v2 for numpy: a strided view of the storage, copied."""
    if all(n > 0 for n in size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= len(storage):
            raise pickle.UnpicklingError(f"a tensor reaches element {last} of a storage of {len(storage)}")
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size),
                                           strides=tuple(s * storage.itemsize for s in stride), writeable=False)
    return view.copy()


class StateDictUnpickler(pickle.Unpickler):
    """Unpickles a torch.save state dict without torch, and without calling anything else."""

    STORAGES = {"FloatStorage": np.float32, "BoolStorage": np.bool_}

    def __init__(self, file, archive, prefix):
        super().__init__(file)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor
        if module == "torch" and name in self.STORAGES:
            return StorageType(self.STORAGES[name])
        raise pickle.UnpicklingError(f"refused the global {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key, location, numel = pid
        if kind != "storage" or not isinstance(storage_type, StorageType):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        data = self.archive.read(f"{self.prefix}data/{key}")
        if len(data) != numel * np.dtype(storage_type.dtype).itemsize:
            raise pickle.UnpicklingError(f"storage {key} has {len(data)} bytes for {numel} elements")
        return np.frombuffer(data, dtype=storage_type.dtype, count=numel)


def load_pt_without_torch(path):
    with zipfile.ZipFile(path) as archive:
        if archive.testzip() is not None:
            sys.exit(f"{path}: an entry fails its CRC check")
        pkl = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        prefix = pkl[: -len("data.pkl")]
        if archive.read(prefix + "version").strip() != b"3" or archive.read(prefix + "byteorder") != b"little":
            sys.exit(f"{path}: version must be 3 and byteorder little")
        with archive.open(pkl) as f:
            state = StateDictUnpickler(f, archive, prefix).load()
    if type(state) is not collections.OrderedDict:
        sys.exit(f"{path}: the pickle holds a {type(state).__name__}, not an OrderedDict")
    return state


def forward(w, cfg, sequences):
    """Last-position logits in float64, as HookedTransformer computes them."""
    x = np.asarray(sequences)
    n = x.shape[1]
    g = {k: v.astype(np.float64) for k, v in w.items() if k != "blocks.0.attn.mask"}
    resid = g["embed.W_E"][x] + g["pos_embed.W_pos"][None, :n]
    q, k, v = (np.einsum("npd,hde->nphe", resid, g[f"blocks.0.attn.W_{c}"]) + g[f"blocks.0.attn.b_{c}"] for c in "QKV")
    scores = np.einsum("nqhe,nkhe->nhqk", q, k) / np.sqrt(cfg["d_head"])
    scores = np.where(w["blocks.0.attn.mask"][:n, :n], scores, g["blocks.0.attn.IGNORE"])
    pattern = np.exp(scores - scores.max(axis=-1, keepdims=True))
    pattern /= pattern.sum(axis=-1, keepdims=True)
    z = np.einsum("nhqk,nkhe->nqhe", pattern, v)
    mid = resid + np.einsum("nqhe,hed->nqd", z, g["blocks.0.attn.W_O"]) + g["blocks.0.attn.b_O"]
    hidden = np.maximum(mid @ g["blocks.0.mlp.W_in"] + g["blocks.0.mlp.b_in"], 0)
    post = mid + hidden @ g["blocks.0.mlp.W_out"] + g["blocks.0.mlp.b_out"]
    return post[:, -1] @ g["unembed.W_U"] + g["unembed.b_U"]


def main():
    directory, sequences = sys.argv[1], json.loads(sys.argv[2])
    with open(os.path.join(directory, "config.json")) as f:
        cfg = json.load(f)
    out, notes, loaded = {}, [], {}

    st_path = os.path.join(directory, "model.safetensors")
    if os.path.exists(st_path):
        try:
            from safetensors.numpy import load_file
        except ImportError:
            notes.append("safetensors is not installed: model.safetensors was not loaded (pip install safetensors)")
        else:
            weights = load_file(st_path)
            check_layout("model.safetensors", weights, cfg, ordered=False)
            loaded["safetensors"] = ("safetensors.numpy", weights)

    pt_path = os.path.join(directory, "model.pt")
    if os.path.exists(pt_path):
        try:
            import torch
        except ImportError:
            notes.append("torch is not installed: model.pt was read with zipfile and a restricted pickle.Unpickler, not torch.load")
            loaded["pt"] = ("pickle", load_pt_without_torch(pt_path))
        else:
            state = torch.load(pt_path, weights_only=True)
            loaded["pt"] = ("torch.load", collections.OrderedDict((k, t.numpy()) for k, t in state.items()))
        check_layout("model.pt", loaded["pt"][1], cfg, ordered=True)

    for name, (loader, weights) in loaded.items():
        out[name] = {"loader": loader, "keys": list(weights), "logits": forward(weights, cfg, sequences).tolist()}
    if len(loaded) == 2:
        a, b = loaded["pt"][1], loaded["safetensors"][1]
        out["identical"] = all(a[k].tobytes() == b[k].tobytes() for k in a)
    out["notes"] = notes
    print(json.dumps(out))


main()
