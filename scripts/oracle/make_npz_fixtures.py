"""Writes the NumPy fixtures that NpzTest reads (src/test/resources/fixtures/npz).

Run: python3 -m venv /tmp/ref-bench && /tmp/ref-bench/bin/pip install numpy
     /tmp/ref-bench/bin/python scripts/oracle/make_npz_fixtures.py
The expected values are restated by hand in NpzTest, so the test checks the Java reader against
numpy's writer, and the Java writer's bytes against numpy's np.save bytes.
"""
import pathlib
import numpy as np

out = pathlib.Path(__file__).resolve().parents[2] / "src/test/resources/fixtures/npz"
out.mkdir(parents=True, exist_ok=True)

arrays = {
    # (2, 3) float32: 0.5 * i - 1
    "f4": (np.arange(6, dtype="<f4") * 0.5 - 1).reshape(2, 3),
    # float16 edge values: zero, negative zero, 1.5, the largest finite, the smallest subnormal, +inf
    "f2": np.array([0.0, -0.0, 1.5, 65504.0, 2.0 ** -24, np.inf], dtype="<f2"),
    # (2, 2, 2) int32 with negatives
    "i4": (np.arange(8, dtype="<i4") - 3).reshape(2, 2, 2),
    # int64 beyond the int32 range
    "i8": np.array([-(2 ** 40), 7, 2 ** 40 + 1], dtype="<i8"),
    # 0-d scalar
    "scalar": np.array(3.25, dtype="<f4"),
}
np.savez(out / "numpy_savez.npz", **arrays)
np.savez_compressed(out / "numpy_savez_compressed.npz", **arrays)
# single .npy files to compare the Java writer's bytes with numpy's
np.save(out / "f4.npy", arrays["f4"])
np.save(out / "i8.npy", arrays["i8"])
# a big-endian array and a Fortran-order array, which the reader must refuse clearly
np.savez(out / "unsupported.npz", big=np.arange(3, dtype=">f4"),
         fortran=np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
print("wrote", sorted(p.name for p in out.iterdir()))
