"""How fast the Whisper-base encoder runs on one thread: numpy (chapter 06d) against onnxruntime in float32 and int8
(chapter 06h), side by side in one run, and how far the packaged default model's predictions move between them on
real clips of the development corpora.

    python benchmarks/encoder.py --data-root DATA --clips 1000

Rows, one per encoder (`SER_NB_ENCODER`: numpy, onnx, onnx-int8):
- warm ms per 3-s clip: log-mel + encoder up to the default model's last layer + pooling, as it embeds a clip, on one thread,
  median over rounds of --speed-clips real clips cut to 3.0 s (the encoders take turns within each round);
- real-time factor: that time / 3 s;
- streams per core: live streams of a 2-s window every 0.5 s that one core keeps up with, 0.5 s / (warm time of a 2-s window);
- cold `ser_nb predict CLIP`: a fresh process, whole wall time, best of --repeat (the encoders take turns);
- agreement with numpy over --clips real clips spread evenly over the corpora found: the share with the same top
  emotion, and the largest |difference| of any class probability.
Writes benchmarks/encoder.json (the table chapter 06h shows).
"""
import argparse, datetime, json, os, platform, shutil, subprocess, sys, time
from pathlib import Path

import numpy as np

KINDS = ('numpy', 'onnx', 'onnx-int8')
HERE = Path(__file__).parent


def dev_clips(root: str, n: int) -> list[str]:
    "`n` clip paths spread evenly over the development corpora found under `root`, taken in turn from each."
    from ser_nb.data import has_dataset, load_metadata
    from ser_nb.transfer import DEV_CORPORA
    tables = [load_metadata(d, root=root).sort_values('path') for d in DEV_CORPORA if has_dataset(d, root)]
    if not tables: sys.exit(f'no development corpus under {root}: pass --data-root')
    per = -(-n // len(tables))
    lists = [list(t.path.iloc[np.linspace(0, len(t) - 1, min(per, len(t))).astype(int)]) for t in tables]
    out = [p for group in zip(*[l + [None] * (per - len(l)) for l in lists]) for p in group if p is not None]
    return out[:n]


def speed(encoders: dict, clips: list[np.ndarray], rounds: int) -> dict:
    "Median over `rounds` of each encoder's mean warm seconds per clip (the default model's layers, mean_std pooled, as it runs them)."
    from ser_nb.default_model import load_default_model
    layers = load_default_model().encoder_layers   # the hidden states its encoder computes
    times = {k: [] for k in encoders}
    for e in encoders.values(): e.embed(clips[0], 16000, layers=layers, pool='mean_std')   # sessions, caches
    for _ in range(rounds):
        for k, e in encoders.items():
            t = time.perf_counter()
            for y in clips: e.embed(y, 16000, layers=layers, pool='mean_std')
            times[k].append((time.perf_counter() - t) / len(clips))
    return {k: float(np.median(v)) for k, v in times.items()}


def cold(clip: str, repeat: int) -> dict:
    "Best wall time of `ser_nb predict clip` in a fresh process per encoder kind, the kinds taking turns."
    exe = shutil.which('ser_nb')
    if not exe: return {k: float('nan') for k in KINDS}
    walls = {k: [] for k in KINDS}
    for _ in range(repeat):
        for k in KINDS:
            t = time.perf_counter()
            r = subprocess.run([exe, 'predict', clip], capture_output=True, text=True, env={**os.environ, 'SER_NB_ENCODER': k})
            if r.returncode != 0: sys.exit(f'ser_nb predict failed with SER_NB_ENCODER={k}: {r.stderr.strip()[-300:]}')
            walls[k].append(time.perf_counter() - t)
    return {k: min(v) for k, v in walls.items()}


def agreement(encoders: dict, paths: list[str]) -> dict:
    "Per fast encoder: the share of clips whose top emotion matches numpy's, and the largest |Δp| of any class."
    from ser_nb.default_model import load_default_model
    from ser_nb.preprocess import load_audio
    m = load_default_model()
    P = {k: [] for k in encoders}
    for i, p in enumerate(paths):
        y = load_audio(p, 16000)
        for k, e in encoders.items():
            m._enc = e; P[k].append(m.predict_audio(y, 16000))
        if (i + 1) % 200 == 0: print(f'  agreement: {i + 1}/{len(paths)} clips', flush=True)
    m._enc = None
    ref = np.array(P['numpy'])
    return {k: dict(same_top=float((np.array(v).argmax(1) == ref.argmax(1)).mean()), max_dp=float(np.abs(np.array(v) - ref).max()),
                    p99_dp=float(np.quantile(np.abs(np.array(v) - ref).max(1), 0.99))) for k, v in P.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data-root', default=os.environ.get('SER_NB_DATA', '../shared/datasets'))
    ap.add_argument('--clips', type=int, default=1000, help='real clips for the agreement')
    ap.add_argument('--speed-clips', type=int, default=20, help='real clips (cut to 3 s and 2 s) for the warm times')
    ap.add_argument('--rounds', type=int, default=5, help='rounds of the warm times (the median is reported)')
    ap.add_argument('--repeat', type=int, default=3, help='cold processes per encoder (the best is reported)')
    ap.add_argument('--out', default=str(HERE / 'encoder.json'))
    a = ap.parse_args()
    import onnxruntime
    from ser_nb.onnx_whisper import fast_whisper_encoder
    from ser_nb.preprocess import load_audio
    paths = dev_clips(a.data_root, a.clips)
    encoders = {k: fast_whisper_encoder(k) for k in KINDS}          # one thread each (their default)
    long = [y for y in (load_audio(p, 16000) for p in paths[::max(1, len(paths) // (4 * a.speed_clips))]) if len(y) >= 48000]
    if len(long) < a.speed_clips: sys.exit(f'only {len(long)} clips of 3 s or more among those found')
    y3 = [y[:48000] for y in long[:a.speed_clips]]
    clip3 = next(p for p in paths if 3.0 <= len(load_audio(p, 16000)) / 16000 < 4.0)
    load = os.getloadavg()[0]
    print(f'{len(paths)} clips from {a.data_root}; warm times on {len(y3)} clips cut to 3 s and 2 s; '
          f'{os.cpu_count()} cores, load {load:.1f}', flush=True)

    t3 = speed(encoders, y3, a.rounds); print('  measured 3-s clips', flush=True)
    t2 = speed(encoders, [y[:32000] for y in y3], a.rounds); print('  measured 2-s windows', flush=True)
    tc = cold(clip3, a.repeat); print('  measured cold ser_nb predict', flush=True)
    ag = agreement(encoders, paths)

    rows = [dict(encoder=k, ms_per_3s_clip=round(1000 * t3[k], 1), speedup=round(t3['numpy'] / t3[k], 2),
                 rtf=round(t3[k] / 3.0, 4), streams_per_core=round(0.5 / t2[k], 1),
                 cold_predict_s=round(tc[k], 2), same_top_pct=round(100 * ag[k]['same_top'], 2),
                 max_dp=round(ag[k]['max_dp'], 4), p99_dp=round(ag[k]['p99_dp'], 4), clips=len(paths)) for k in KINDS]
    print()
    print(f"{'encoder':10} {'ms/3-s clip':>11} {'speed-up':>8} {'RTF':>7} {'streams/core':>12} {'cold predict s':>14} "
          f"{'same top %':>10} {'max |dp|':>8} {'p99 |dp|':>8}")
    for r in rows:
        print(f"{r['encoder']:10} {r['ms_per_3s_clip']:11.1f} {r['speedup']:8.2f} {r['rtf']:7.4f} {r['streams_per_core']:12.1f} "
              f"{r['cold_predict_s']:14.2f} {r['same_top_pct']:10.2f} {r['max_dp']:8.4f} {r['p99_dp']:8.4f}")
    print(f'(one thread; warm: median of {a.rounds} rounds; streams: 2-s window every 0.5 s; cold: best of {a.repeat}; '
          f'agreement with numpy over {len(paths)} clips)')
    cmd = 'python benchmarks/encoder.py --data-root DATA --clips ' + str(a.clips)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load:.1f} at the start; "
               f"onnxruntime {onnxruntime.__version__}, numpy {np.__version__}; {datetime.date.today().isoformat()}")
    Path(a.out).write_text(json.dumps(dict(command=cmd, machine=machine, rows=rows), indent=1) + '\n')
    print('wrote', a.out)


if __name__ == '__main__': main()
