"""How fast `ser_nb` predicts: the packaged default model (Whisper-base in onnxruntime, numpy where it is missing, + numpy head) against the torch
encoder path and, if one is given, a Keras bundle, all measured in one run on real clips.

    python benchmarks/predict.py --data-root ../shared/datasets
    python benchmarks/predict.py --data-root ../shared/datasets --keras-bundle runs/x/bundles/fold0

Rows (side by side):
- cold: a fresh Python process that loads the model and predicts one 3-s RAVDESS clip, whole-process wall time
  (best of --repeat) and its peak resident memory (`os.wait4`'s `ru_maxrss` of that child);
- warm: per-clip time inside one process, model loaded, over --clips real clips;
- real-time factor on a 60-s file made by concatenating real clips (processing time / audio duration, warm);
- peak memory of `ser_nb predict --timeline` on a 10-minute file (if this `ser_nb predict` has --timeline).
The torch rows need the [transformers] extra; the Keras row the [keras] extra.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np


def child_rss(cmd: list[str], env=None) -> tuple[float, float, int, str]:
    "Run `cmd` as a child: (wall seconds, peak RSS MB of that child alone, return code, stderr tail)."
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = p.stderr.read().decode(errors='replace'); p.stderr.close()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, ru.ru_maxrss / 1024, p.returncode, err.strip()[-300:]


def cold(code: str, repeat: int) -> dict:
    "Best wall time and peak RSS over `repeat` fresh processes running `code`."
    walls, rss = [], []
    for _ in range(repeat):
        w, m, rc, err = child_rss([sys.executable, '-c', code])
        if rc != 0: return dict(error=err.splitlines()[-1] if err else f'exit {rc}')
        walls.append(w); rss.append(m)
    return dict(best_s=min(walls), median_s=float(np.median(walls)), peak_mb=max(rss))


LOAD = {
    'default (onnxruntime)': "from ser_nb.default_model import load_default_model; m = load_default_model()",
    'default via torch encoder': "from ser_nb.default_model import DEFAULT_MODEL_DIR; from ser_nb.train import load_bundle; "
                                 "m = load_bundle(DEFAULT_MODEL_DIR); m.fast = False",
    'keras bundle': "from ser_nb.train import load_bundle; m = load_bundle({kb!r})",
}


def concat_clips(paths, seconds: float, sr: int = 16000, gap: float = 0.0) -> np.ndarray:
    "Real clips (16 kHz) end to end, with `gap` seconds of silence between, cut to `seconds`."
    from ser_nb.preprocess import load_audio
    out, n, i = [], 0, 0
    while n < seconds * sr:
        y = load_audio(paths[i % len(paths)], sr); i += 1
        out += [y, np.zeros(int(gap * sr), np.float32)]; n += len(y) + int(gap * sr)
    return np.concatenate(out)[:int(seconds * sr)]


def warm(name: str, kb, clips, long_y) -> dict:
    "Per-clip time of a loaded model over `clips`, and its real-time factor on `long_y` (16 kHz)."
    ns = {}
    exec(LOAD[name].format(kb=kb), ns)
    m = ns['m']
    m.predict_file(clips[0])                                   # load weights, warm caches
    t = time.perf_counter()
    for c in clips: m.predict_file(c)
    per = (time.perf_counter() - t) / len(clips)
    rtf = float('nan')
    if long_y is not None and hasattr(m, 'predict_audio'):
        t = time.perf_counter(); m.predict_audio(long_y, 16000); rtf = (time.perf_counter() - t) / (len(long_y) / 16000)
    return dict(warm_ms=1000 * per, rtf=rtf)


def has_timeline() -> bool:
    "Whether this `ser_nb predict` takes --timeline (and works without --model)."
    exe = shutil.which('ser_nb')
    if not exe: return False
    h = subprocess.run([exe, 'predict', '--help'], capture_output=True, text=True)
    return h.returncode == 0 and '--timeline' in h.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data-root', default=os.environ.get('SER_NB_DATA', '../shared/datasets'))
    ap.add_argument('--keras-bundle', default=None, help='a Keras bundle folder (e.g. runs/x/bundles/fold0)')
    ap.add_argument('--repeat', type=int, default=3, help='cold processes per row (best is reported)')
    ap.add_argument('--clips', type=int, default=10, help='clips for the warm per-clip time')
    ap.add_argument('--no-torch', action='store_true', help='skip the torch encoder rows')
    ap.add_argument('--no-long', action='store_true', help='skip the 10-minute memory row')
    a = ap.parse_args()
    import soundfile as sf
    rav = Path(a.data_root) / 'ravdess'
    paths = sorted(rav.glob('Actor_*/*.flac')) or sorted(rav.glob('Actor_*/*.wav'))
    if not paths: sys.exit(f'no RAVDESS clips under {rav}: pass --data-root')
    clip3 = next(p for p in paths if 2.9 < sf.info(str(p)).duration < 3.6)
    clips = paths[7::97][:a.clips]
    tmp = Path(tempfile.mkdtemp(prefix='ser_nb_bench_'))
    long60 = concat_clips(paths[::41], 60.0, gap=0.5)
    print(f'machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; 3-s clip {clip3.name} '
          f'({sf.info(str(clip3)).duration:.2f} s); warm over {len(clips)} clips; 60-s file from {len(paths[::41])} clips', flush=True)

    # every child process first: a child forked from this process once it holds torch and TensorFlow (the warm
    # rows below) starts with their pages counted in its peak RSS
    rows = {}
    names = ['default (onnxruntime)'] + ([] if a.no_torch else ['default via torch encoder']) + (['keras bundle'] if a.keras_bundle else [])
    for name in names:
        rows[name] = cold(LOAD[name].format(kb=a.keras_bundle) + f"; m.predict_file({str(clip3)!r})", a.repeat)
        print(f'  measured {name}, cold', flush=True)
    exe = shutil.which('ser_nb')      # the whole CLI, as a user runs it
    if exe:
        w = [child_rss([exe, 'predict', str(clip3)]) for _ in range(a.repeat)]
        ok = [x for x in w if x[2] == 0]
        rows['ser_nb predict CLIP (CLI)'] = (dict(best_s=min(x[0] for x in ok), median_s=float(np.median([x[0] for x in ok])),
                                                 peak_mb=max(x[1] for x in ok)) if ok else dict(error=w[0][3].splitlines()[-1] if w[0][3] else 'failed'))
        print('  measured the CLI', flush=True)
    long_line = '10-minute file: skipped (--no-long)'
    if not a.no_long and has_timeline():
        f10 = tmp / 'ten_minutes.wav'
        sf.write(f10, concat_clips(paths[::7], 600.0, gap=1.0), 16000)
        w, mb, rc, err = child_rss([exe, 'predict', str(f10), '--timeline', '--json'])
        long_line = f"10-minute file, ser_nb predict --timeline --json: {w:.1f} s, peak {mb:.0f} MB" + ('' if rc == 0 else f' (exit {rc}: {err})')
    elif not a.no_long: long_line = '10-minute file: skipped (this ser_nb predict has no --timeline)'
    for name in names:
        if 'error' not in rows[name]: rows[name].update(warm(name, a.keras_bundle, clips, long60))
        print(f'  measured {name}, warm', flush=True)

    print()
    print(f"{'path':32} {'cold 3-s clip (s)':>18} {'cold median (s)':>16} {'cold peak MB':>13} {'warm ms/clip':>13} {'RTF 60-s file':>14}")
    for name, r in rows.items():
        if 'error' in r: print(f'{name:32} error: {r["error"]}'); continue
        print(f"{name:32} {r['best_s']:18.2f} {r['median_s']:16.2f} {r['peak_mb']:13.0f} {r.get('warm_ms', float('nan')):13.0f} "
              f"{r.get('rtf', float('nan')):14.3f}")
    print('(cold: whole process, load + one prediction, best of', a.repeat, '; RTF: processing time / audio time, warm)')

    print('\n' + long_line)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__': main()
