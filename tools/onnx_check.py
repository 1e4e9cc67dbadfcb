#!/usr/bin/python3
"""Checks files written by `rewardkit export onnx` with the ONNX reference checker and strict shape inference.

Debian's python3-onnx (apt-get install -y python3-onnx; onnx 1.12, opsets up to 17):
    /usr/bin/python3 tools/onnx_check.py model.onnx [more.onnx ...]
"""
import sys
import onnx

for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    print(f"{path}: ok (IR {model.ir_version}, opset {model.opset_import[0].version}, {len(model.graph.node)} nodes); "
          + ", ".join(f"{v.name}{dims(v)}" for v in model.graph.input) + " -> "
          + ", ".join(f"{v.name}{dims(v)}" for v in inferred.graph.output))
