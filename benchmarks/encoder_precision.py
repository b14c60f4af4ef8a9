"""How much precision the default model's probabilities tolerate: the Whisper-base encoder's linear layers rounded to
8 bits in several ways, simulated exactly in numpy, against the float32 numpy encoder (issue 20's agreement bar).

    python benchmarks/encoder_precision.py --data-root DATA --clips 300

An int8 encoder is only as fast as it is because both operands of every matrix product are 8-bit integers: the
weights (rounded once) and the activations (rounded on the fly). This script rounds each of them separately, and
both together, in chapter 06d's numpy encoder (`ser_nb.fast_whisper._linear` is swapped for a rounding one; all
other arithmetic stays float32) and compares the packaged default model's probabilities with the unrounded
encoder's on real clips spread evenly over the development corpora. Schemes (weights / activations):

- `w8 / fp32`: int8 weights with one scale per output channel (what onnxruntime's int8 graph stores), exact activations;
- `fp32 / a8-tensor`: exact weights, activations rounded to uint8 with one scale and zero point per matrix (what
  onnxruntime's `DynamicQuantizeMatMul` does at run time);
- `fp32 / a8-token`: exact weights, activations rounded with one scale and zero point per frame (token);
- `w8 / a8-tensor`: both, as the `onnx-int8` encoder (its probabilities differ from this simulation's only by rounding);
- `w8 / a8-token`: per-channel weights and per-token activations, the finest plain int8 scheme;
- `w8-g32 / a8-token`: weights with one scale per 32 inputs of each output channel, per-token activations.

For each: the share of clips with numpy's top emotion, the largest and the 99th-percentile |difference| of any
class probability. Writes benchmarks/encoder_precision.json (the table chapter 06h shows).
"""
import argparse, datetime, json, os, platform, sys, time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def w8(w: np.ndarray) -> np.ndarray:
    "Weights `(out, in)` rounded to int8 with one scale per output channel, returned dequantised."
    s = np.maximum(np.abs(w).max(1, keepdims=True), 1e-12) / 127
    return (np.round(w / s) * s).astype(np.float32)


def w8_groups(w: np.ndarray, g: int = 32) -> np.ndarray:
    "Weights rounded to int8 with one scale per `g` consecutive inputs of each output channel."
    n, k = w.shape; wg = w.reshape(n, k // g, g)
    s = np.maximum(np.abs(wg).max(2, keepdims=True), 1e-12) / 127
    return (np.round(wg / s) * s).reshape(n, k).astype(np.float32)


def _a8(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    "`x` rounded to uint8 on the range [lo, hi] (widened to hold 0, as onnxruntime does), dequantised."
    lo, hi = np.minimum(lo, 0), np.maximum(hi, 0)
    s = np.maximum(hi - lo, 1e-12) / 255; z = np.round(-lo / s)
    return ((np.clip(np.round(x / s) + z, 0, 255) - z) * s).astype(np.float32)


def a8_tensor(x: np.ndarray) -> np.ndarray: return _a8(x, x.min(), x.max())
def a8_token(x: np.ndarray) -> np.ndarray: return _a8(x, x.min(1, keepdims=True), x.max(1, keepdims=True))


SCHEMES = {'w8 / fp32': (w8, None), 'fp32 / a8-tensor': (None, a8_tensor), 'fp32 / a8-token': (None, a8_token),
           'w8 / a8-tensor': (w8, a8_tensor), 'w8 / a8-token': (w8, a8_token), 'w8-g32 / a8-token': (w8_groups, a8_token)}


def rounding_linear(wq, aq):
    "A stand-in for `fast_whisper._linear` that rounds the weights with `wq` and the activations with `aq` (None: exact)."
    cache = {}
    def _linear(x, W, name, bias=True):
        w = W[name + '.weight']
        if wq is not None and name not in cache: cache[name] = wq(w)
        y = (x if aq is None else aq(x)) @ (cache[name] if wq is not None else w).T
        return y + W[name + '.bias'] if bias else y
    return _linear


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data-root', default=os.environ.get('SER_NB_DATA', '../shared/datasets'))
    ap.add_argument('--clips', type=int, default=300)
    ap.add_argument('--out', default=str(HERE / 'encoder_precision.json'))
    a = ap.parse_args()
    import ser_nb.fast_whisper as fw
    from ser_nb.default_model import load_default_model
    from ser_nb.preprocess import load_audio
    from encoder import dev_clips
    paths = dev_clips(a.data_root, a.clips)
    ys = [load_audio(p, 16000) for p in paths]
    m = load_default_model(); m._enc = fw.NumpyWhisperEncoder()
    exact, t0 = fw._linear, time.time()
    ref = np.array([m.predict_audio(y, 16000) for y in ys])
    print(f'{len(ys)} clips from {a.data_root}; reference (float32 numpy) in {time.time() - t0:.0f} s', flush=True)
    rows = []
    try:
        for name, (wq, aq) in SCHEMES.items():
            fw._linear = rounding_linear(wq, aq)
            P = np.array([m.predict_audio(y, 16000) for y in ys]); d = np.abs(P - ref).max(1)
            rows.append(dict(scheme=name, same_top_pct=round(100 * float((P.argmax(1) == ref.argmax(1)).mean()), 2),
                             max_dp=round(float(d.max()), 4), p99_dp=round(float(np.quantile(d, 0.99)), 4),
                             mean_dp=round(float(d.mean()), 4), within_bar=bool((P.argmax(1) == ref.argmax(1)).mean() >= 0.99 and d.max() <= 0.02)))
            r = rows[-1]
            print(f"{name:20} same top {r['same_top_pct']:6.2f} %  max |dp| {r['max_dp']:.4f}  p99 {r['p99_dp']:.4f}  "
                  f"mean {r['mean_dp']:.4f}  {'meets' if r['within_bar'] else 'misses'} the bar", flush=True)
    finally: fw._linear = exact
    cmd = f'python benchmarks/encoder_precision.py --data-root DATA --clips {a.clips}'
    machine = f"{platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}; {datetime.date.today().isoformat()}"
    Path(a.out).write_text(json.dumps(dict(command=cmd, machine=machine, clips=len(ys),
                                           bar=dict(same_top_pct=99, max_dp=0.02), rows=rows), indent=1) + '\n')
    print('wrote', a.out)


if __name__ == '__main__': main()
