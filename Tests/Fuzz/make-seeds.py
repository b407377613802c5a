#!/usr/bin/env python3
"""Writes the committed seed corpora for scripts/fuzz (Tests/Fuzz/Corpus/spec and .../pickle).

Run from anywhere: python3 Tests/Fuzz/make-seeds.py. It replaces both directories, so the
corpus is always what this script says (torch is not needed: the pickles are written the way
torch.save writes them, with stand-in `torch` modules so that Python's pickler emits the same
GLOBAL names).

spec:   every pipeline in pipelines/, every spec of the bad-spec corpus (Tests/CLITests/BadSpecs,
        with its -S overrides after NUL bytes, the format SpecFuzzTarget reads), and small
        hand-made cases for the JSON parser's corners.
pickle: the authors' data.pkl (from datasets/rib-modadd/seed0.pt), state-dict pickles of
        protocols 2 to 4, small .pt ZIPs, safetensors files, and hostile inputs (globals that
        would run code, huge declared sizes).
"""

import collections
import io
import json
import os
import pickle
import shutil
import struct
import sys
import types
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "Tests", "Fuzz", "Corpus")


def reset(name):
    path = os.path.join(CORPUS, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# --- spec ------------------------------------------------------------------------------------

def spec_seeds():
    out = reset("spec")
    for base, _, files in os.walk(os.path.join(ROOT, "pipelines")):
        for f in sorted(files):
            if f.endswith(".json"):
                rel = os.path.relpath(os.path.join(base, f), os.path.join(ROOT, "pipelines"))
                write(out, "pipeline-" + rel.replace("/", "-"), open(os.path.join(base, f), "rb").read())
    bad = os.path.join(ROOT, "Tests", "CLITests", "BadSpecs")
    for f in sorted(os.listdir(bad)):
        if not f.endswith(".json"):
            continue
        data = open(os.path.join(bad, f), "rb").read()
        args = os.path.join(bad, f[:-5] + ".args")
        if os.path.exists(args):
            lines = open(args).read().split("\n")
            overrides = [lines[i + 1] for i, a in enumerate(lines) if a == "-S" and i + 1 < len(lines)]
            data += b"".join(b"\0" + o.encode() for o in overrides)
        write(out, "badspec-" + f, data)
    small = {
        "minimal.json": '{"pipeline": "p", "stages": {"a": {"kind": "command", "params": {"shell": "true", "outputs": {}}}}}',
        "file-input.json": '{"pipeline": "p", "stages": {"a": {"kind": "command", "inputs": {"f": {"file": "data/input.txt"}},'
                           ' "params": {"argv": ["cat", "${inputs.f}"], "outputs": {"o": "o.txt"}}}}}',
        "symlink-escape.json": '{"pipeline": "p", "stages": {"a": {"kind": "command", "inputs": {"f": {"file": "data/outside/passwd"}},'
                               ' "params": {"shell": "true", "outputs": {}}}}}',
        "dotdot-escape.json": '{"pipeline": "p", "stages": {"a": {"kind": "command", "inputs": {"f": {"file": "../../etc/passwd"}},'
                              ' "params": {"shell": "true", "outputs": {}}}}}',
        "foreach-fanin.json": '{"pipeline": "p", "params": {"s": [0, 1], "b": ["x", "y"]}, "stages": {'
                              '"a": {"kind": "command", "foreach": {"seed": "${params.s}", "basis": "${params.b}"},'
                              ' "params": {"shell": "echo ${item.seed} ${item.basis} > ${outputs.o}", "outputs": {"o": "o"}}},'
                              '"b": {"kind": "command", "inputs": {"all": "a@*:o", "one": "a@seed=0,basis=x:o"},'
                              ' "params": {"shell": "cat ${inputs.all}", "outputs": {}}}}}',
        "cycle.json": '{"pipeline": "p", "stages": {"a": {"kind": "command", "inputs": {"x": "b:o"}, "params": {"shell": "true", "outputs": {"o": "o"}}},'
                      ' "b": {"kind": "command", "inputs": {"x": "a:o"}, "params": {"shell": "true", "outputs": {"o": "o"}}}}}',
        "overrides.json": '{"pipeline": "p", "params": {"n": 1, "l": [1, 2], "o": {"k": "v"}}, "stages": {"a": {"kind": "command",'
                          ' "params": {"shell": "echo ${params.n}", "outputs": {}}}}}'
                          '\0n=2\0l=[3,4]\0+extra="s"\0o.k=null\0stages.a.params.threads=2',
        "strings.json": '{"pipeline": "p\\u002d1", "description": "\\ud83d\\ude00 \\u00e9 \\" \\\\ \\/ \\b\\f\\n\\r\\t", "stages": {}}',
        "numbers.json": '[0, -0, 1e308, -1e-308, 9223372036854775807, -9223372036854775808, 9223372036854775808, 1.5E+2, 0.000001]',
        "deep.json": "[" * 600 + "]" * 600,
        "empty-containers.json": '{"a": {}, "b": [], "c": [{}], "d": [[]], "e": null, "f": true, "g": false}',
        "duplicate-keys.json": '{"pipeline": "p", "pipeline": "q", "stages": {"a": {"kind": "command", "kind": "train"}}}',
        "train.json": '{"pipeline": "t", "stages": {"train": {"kind": "train", "params": {"p": 31, "epochs": 10}}}}',
    }
    for name, text in small.items():
        write(out, "small-" + name, text)


# --- pickle ----------------------------------------------------------------------------------

# Stand-ins for the torch names a state-dict pickle mentions: Python's pickler writes a
# function or class as GLOBAL 'module name' after checking that the module really holds it.
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, torch_utils
torch._utils = torch_utils


def _rebuild_tensor_v2(*args):
    raise AssertionError("never called")


def _rebuild_parameter(*args):
    raise AssertionError("never called")


_rebuild_tensor_v2.__module__ = _rebuild_parameter.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
torch_utils._rebuild_parameter = _rebuild_parameter

SIZES = {"FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
         "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1}
for _name in SIZES:
    _cls = type(_name, (), {"__module__": "torch"})
    setattr(torch, _name, _cls)


class Storage:
    def __init__(self, kind, key, count, device="cpu"):
        self.kind, self.key, self.count, self.device = kind, key, count, device


class Tensor:
    """A tensor as torch.save reduces it: _rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    def __init__(self, storage, offset, shape, strides, parameter=False):
        self.storage, self.offset, self.shape, self.strides, self.parameter = storage, offset, shape, strides, parameter

    def __reduce__(self):
        args = (self.storage, self.offset, tuple(self.shape), tuple(self.strides), False, collections.OrderedDict())
        if self.parameter:
            return (_rebuild_parameter, (Tensor(self.storage, self.offset, self.shape, self.strides), False, collections.OrderedDict()))
        return (_rebuild_tensor_v2, args)


class StatePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", getattr(torch, obj.kind), obj.key, obj.device, obj.count)
        return None


def state_pickle(tensors, protocol):
    buffer = io.BytesIO()
    StatePickler(buffer, protocol=protocol).dump(collections.OrderedDict(tensors))
    return buffer.getvalue()


def contiguous(shape):
    strides, acc = [], 1
    for d in reversed(shape):
        strides.insert(0, acc)
        acc *= max(d, 1)
    return strides


def small_state():
    """A few tensors of different dtypes and layouts; storages as (kind, key, count)."""
    w = Storage("FloatStorage", "0", 6)
    b = Storage("DoubleStorage", "1", 3)
    shared = Storage("LongStorage", "2", 8)
    return [
        ("w", Tensor(w, 0, [2, 3], [3, 1])),
        ("w_t", Tensor(w, 0, [3, 2], [1, 3])),               # a transposed view
        ("b", Tensor(b, 0, [3], [1], parameter=True)),
        ("half", Tensor(shared, 4, [2, 2], contiguous([2, 2]))),  # an offset view
        ("scalar", Tensor(Storage("IntStorage", "3", 1), 0, [], [])),
        ("empty", Tensor(Storage("HalfStorage", "4", 0), 0, [0, 5], contiguous([0, 5]))),
        ("mask", Tensor(Storage("BoolStorage", "5", 4), 0, [4], [1])),
    ]


def checkpoint_zip(tensors, archive="model"):
    """A .pt as torch.save lays it out (entries stored, uncompressed)."""
    buffer = io.BytesIO()
    storages = {}
    for _, t in tensors:
        storages[t.storage.key] = t.storage
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{archive}/data.pkl", state_pickle(tensors, 2))
        z.writestr(f"{archive}/byteorder", "little")
        for key in sorted(storages):
            s = storages[key]
            z.writestr(f"{archive}/data/{key}", bytes((i * 7) % 256 for i in range(s.count * SIZES[s.kind])))
        z.writestr(f"{archive}/version", "3\n")
    return buffer.getvalue()


def safetensors(tensors, metadata=None):
    header, body = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, size) in tensors.items():
        n = size
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + n]}
        body += bytes(i % 251 for i in range(n))
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def pickle_seeds():
    out = reset("pickle")
    with zipfile.ZipFile(os.path.join(ROOT, "datasets", "rib-modadd", "seed0.pt")) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        write(out, "authors-seed0-data.pkl", z.read(name))
    state = small_state()
    for protocol in (2, 3, 4):
        write(out, f"state-protocol{protocol}.pkl", state_pickle(state, protocol))
    write(out, "state-empty.pkl", state_pickle([], 2))
    write(out, "small.pt", checkpoint_zip(state))
    write(out, "one-tensor.pt", checkpoint_zip(state[:1], archive="archive"))
    write(out, "small.safetensors", safetensors({"w": ("F32", [2, 3], 4), "b": ("BF16", [3], 2), "i": ("I64", [], 8)},
                                                metadata={"format": "pt"}))
    write(out, "empty.safetensors", safetensors({}))

    # Hostile: what a malicious checkpoint does (each must be refused, never run).
    write(out, "hostile-os-system.pkl", b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
    write(out, "hostile-eval-stack-global.pkl",
          b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x041+1\x94\x85\x94R\x94.")
    huge = Storage("FloatStorage", "0", 1 << 62)
    write(out, "hostile-huge-storage.pkl", state_pickle([("w", Tensor(huge, 0, [1 << 31, 1 << 31], [1 << 31, 1]))], 2))
    write(out, "hostile-huge-shape.pkl",
          state_pickle([("w", Tensor(Storage("FloatStorage", "0", 4), 0, [1 << 40, 1 << 40], [0, 0]))], 2))
    write(out, "hostile-huge-header.safetensors", struct.pack("<Q", 1 << 60) + b"{}")


if __name__ == "__main__":
    spec_seeds()
    pickle_seeds()
    total = 0
    for base, _, files in os.walk(CORPUS):
        total += sum(os.path.getsize(os.path.join(base, f)) for f in files)
    print(f"seeds: {len(os.listdir(os.path.join(CORPUS, 'spec')))} spec, {len(os.listdir(os.path.join(CORPUS, 'pickle')))} pickle, {total} bytes")
