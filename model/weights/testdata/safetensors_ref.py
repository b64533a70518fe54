"""Independent safetensors reference for model/weights tests.

Uses only struct/json and torch (for the f16/bf16 rounding); no safetensors
package. Usage:
  safetensors_ref.py write DIR  -> DIR/ref.safetensors, DIR/values.json
  safetensors_ref.py check FILE -> parse FILE (written by Go) and compare it
                                   with the tensors `write` produces.
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
METADATA = {"format": "test", "note": "independent writer"}


def sources():
    g = torch.Generator().manual_seed(7)
    special = [0.0, -0.0, 1.0, -2.5, 1e-6, 6.0e-8, 1e-9, 65504.0, 70000.0,
               1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, 3.0e38]
    out = {}
    for name, dt, shape in [("a.f32", "F32", (2, 3)), ("b.f16", "F16", (4, 5)), ("c.bf16", "BF16", (3, 2, 2)),
                            ("d.f16.special", "F16", (len(special),)), ("e.bf16.special", "BF16", (len(special),)),
                            ("f.scalar", "F32", ())]:
        if "special" in name:
            src = torch.tensor(special, dtype=torch.float32)
        else:
            src = torch.randn(shape, generator=g, dtype=torch.float32) * 3
        out[name] = (dt, list(shape), src)
    return out


def raw_bytes(dt, src):
    t = src.to(DTYPES[dt])
    if dt == "F32":
        return struct.pack("<%df" % t.numel(), *t.flatten().tolist())
    ints = t.view(torch.int16).flatten().tolist()  # the 16-bit patterns
    return struct.pack("<%dh" % len(ints), *ints)


def encode(tensors):
    header, data, off = {}, b"", 0
    names = sorted(list(tensors) + ["__metadata__"])
    for n in names:
        if n == "__metadata__":
            header[n] = dict(sorted(METADATA.items()))
            continue
        dt, shape, src = tensors[n]
        b = raw_bytes(dt, src)
        header[n] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        data += b
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def decode(buf):
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    data = buf[8 + n:]
    meta = header.pop("__metadata__", {})
    return meta, {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    ts = sources()
    if mode == "write":
        with open(arg + "/ref.safetensors", "wb") as f:
            f.write(encode(ts))
        vals = {n: {"dtype": dt, "shape": shape, "src": src.flatten().tolist(),
                    "values": [v if abs(v) != float("inf") else repr(v) for v in
                               src.to(DTYPES[dt]).to(torch.float64).flatten().tolist()]}
                for n, (dt, shape, src) in ts.items()}
        with open(arg + "/values.json", "w") as f:
            json.dump({"metadata": METADATA, "tensors": vals}, f)
        return
    with open(arg, "rb") as f:
        meta, got = decode(f.read())
    assert meta == METADATA, meta
    assert sorted(got) == sorted(ts), sorted(got)
    for n, (dt, shape, src) in ts.items():
        gdt, gshape, gdata = got[n]
        assert (gdt, gshape) == (dt, shape), (n, gdt, gshape)
        assert gdata == raw_bytes(dt, src), n
    print("ok", len(got))


if __name__ == "__main__":
    main()
