"""numpy-written .npz files for model/weights' reader test.

Usage: npz_ref.py DIR -> DIR/plain.npz (np.savez), DIR/compressed.npz
(np.savez_compressed), DIR/int.npz (an int32 array: must be refused),
DIR/fortran.npz (a Fortran-order array: must be refused), DIR/values.json
(each array's shape, dtype and values as float64).
"""
import json
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(11)
arrays = {
    "params/spatial_ln/scale": rng.standard_normal((2, 3)).astype(np.float32),
    "params/x_layers/w": rng.standard_normal((2, 3, 2, 2)).astype(np.float32),
    "f64": rng.standard_normal(4),
    "f16": rng.standard_normal((3, 2)).astype(np.float16),
    "scalar": np.float32(2.5),
    "empty": np.zeros((0, 3), np.float32),
}
np.savez(os.path.join(out, "plain.npz"), **arrays)
np.savez_compressed(os.path.join(out, "compressed.npz"), **arrays)
np.savez(os.path.join(out, "int.npz"), ids=np.arange(3, dtype=np.int32))
np.savez(os.path.join(out, "fortran.npz"), w=np.asfortranarray(rng.standard_normal((2, 3)).astype(np.float32)))
with open(os.path.join(out, "values.json"), "w") as f:
    json.dump({k: {"shape": list(np.shape(v)), "dtype": np.asarray(v).dtype.str,
                   "values": np.asarray(v, np.float64).ravel().tolist()} for k, v in arrays.items()}, f)
