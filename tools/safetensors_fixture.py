"""Builds a safetensors file by hand per the HF spec (struct packing) so the C# reader is checked against an independent writer."""
import json, struct, sys
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "tests/RewardKit.Tensors.Tests/Fixtures/handmade.safetensors"
f32 = np.array([[1.0, -2.0, 0.5], [3.25, 0.0, -7.75]], dtype="<f4").tobytes()
f16 = np.array([1.5, -0.25, 65504.0], dtype="<f2").tobytes()
bf16 = (np.array([-3.0, 0.15625], dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()
parts = [("a.f32", "F32", [2, 3], f32), ("b.f16", "F16", [3], f16), ("c.bf16", "BF16", [2], bf16)]
header, off = {"__metadata__": {"format": "pt"}}, 0
for name, dt, shape, data in parts:
    header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(data)]}
    off += len(data)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open(out, "wb") as fh:
    fh.write(struct.pack("<Q", len(h)) + h + b"".join(p[3] for p in parts))
