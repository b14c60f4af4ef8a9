"""Feature-extraction benchmark: report 003's loop vs the ser_nb feature store, on RAVDESS, in one run.

    python benchmarks/features.py [--data-root DIR] [--limit N] [--report-limit M] [--jobs J]

Measures, on the same machine and in the same process:
  (1) report 003's loop, re-implemented faithfully: for each file, librosa.load(sr=22050), peak-normalise
      (signal / (max|signal| + 1e-7)), then four separate librosa calls (mfcc n_mfcc=13, chroma_stft,
      melspectrogram n_mels=128 + power_to_db, zero_crossing_rate), pad/truncate to 300 frames, concatenate;
      one file at a time, with numpy's default BLAS threads (as the report's code runs). It is slow, so it
      runs on an evenly spread subset (--report-limit) and its clips/s is extrapolated to the corpus;
  (1b) the same loop with BLAS limited to one thread (threadpoolctl): librosa's mel `einsum` is a small
      matrix product that gets much slower, not faster, on two BLAS threads of a busy 2-core machine, so
      this is the loop's best case here;
  (2) ser_nb cold: `extract(df, 'seq154')` into an empty temporary cache (worker start-up included);
  (3) ser_nb warm: the same call again, served from that cache: the table's pack, memory-mapped;
  (3b) the same, plus reading every value of X once (X.sum()), so the mapped pages are really read;
  (3c) warm from the per-clip entries, with packs switched off (as for a table seen for the first time);
  (4) the decode+resample floor: `ser_nb.preprocess.load_audio(path, 22050)` of every clip, one process;
  (4b) the same floor on all cores (joblib loky workers, start-up included): the ceiling for any cold
      extraction that must decode and resample every clip, whatever its features cost.
It also checks that (1) and (2) give the same numbers on the subset.
"""
from __future__ import annotations
import argparse, datetime, os, platform, shutil, subprocess, sys, tempfile, time

import numpy as np


def report003_features(path: str, max_len: int = 300) -> np.ndarray:
    "Report 003's per-file feature code, as printed in the report (minus the tqdm/try wrapper)."
    import librosa
    signal, sr = librosa.load(path, sr=22050)
    signal = signal / (np.max(np.abs(signal)) + 1e-7)  # Normalize volume
    mfcc = librosa.feature.mfcc(y=signal, sr=sr, n_mfcc=13).T  # (T, 13)
    chroma = librosa.feature.chroma_stft(y=signal, sr=sr).T  # (T, 12)
    mel = librosa.feature.melspectrogram(y=signal, sr=sr, n_mels=128)
    mel_db = librosa.power_to_db(mel).T  # (T, 128)
    zcr = librosa.feature.zero_crossing_rate(y=signal).T  # (T, 1)

    def pad(x):
        return np.pad(x, ((0, max_len - x.shape[0]), (0, 0)), mode='constant') if x.shape[0] < max_len else x[:max_len, :]

    return np.concatenate((pad(mfcc), pad(chroma), pad(mel_db), pad(zcr)), axis=1)


def _decode_chunk(paths: list) -> int:
    "Decode and resample a chunk of clips, one BLAS thread (the (4b) floor)."
    from ser_nb.preprocess import load_audio
    for p in paths: load_audio(p, 22050)
    return len(paths)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data-root', default=None, help='data root holding ravdess/ (default: $SER_NB_DATA, ~/.cache/ser_nb/datasets)')
    ap.add_argument('--limit', type=int, default=None, help='only the first N clips for (2)-(4) (default: all 1440)')
    ap.add_argument('--report-limit', type=int, default=240, help='clips for the slow report loop, spread evenly (default 240)')
    ap.add_argument('--jobs', type=int, default=-1, help='ser_nb worker processes (default -1: all cores)')
    a = ap.parse_args(argv)

    from ser_nb.data import load_metadata
    from ser_nb.preprocess import load_audio
    from ser_nb.store import extract
    import joblib, librosa

    df = load_metadata('ravdess', a.data_root)
    if a.limit: df = df.head(a.limit)
    n = len(df)
    step = max(1, -(-n // a.report_limit))
    sub = df.iloc[::step]
    paths = list(df.path)
    print(f"# ser_nb feature benchmark — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"# command: python benchmarks/features.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print(f"# machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"librosa {librosa.__version__}, numpy {np.__version__}; ser_nb jobs: {joblib.effective_n_jobs(a.jobs)}")
    print(f"# load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    print(f"# RAVDESS: {n} clips, spec seq154 -> (300, 154); report loop on {len(sub)} of them (every {step}th)", flush=True)

    report003_features(paths[0])  # warm-up: numba compilation and imports, not timed

    rows = []
    t = time.perf_counter()
    for p in paths: load_audio(p, 22050)
    rows.append(('(4) decode+resample floor (1 process)', n, time.perf_counter() - t))

    from ser_nb.store import THREAD_ENV
    from joblib.externals.loky import get_reusable_executor
    n_par = joblib.effective_n_jobs(a.jobs)
    t = time.perf_counter()
    ex = get_reusable_executor(max_workers=n_par, env=THREAD_ENV)
    assert sum(ex.map(_decode_chunk, [paths[i:i + 16] for i in range(0, n, 16)])) == n
    rows.append((f'(4b) decode+resample floor ({n_par} processes)', n, time.perf_counter() - t))
    ex.shutdown(wait=True)

    from threadpoolctl import threadpool_limits
    t = time.perf_counter()
    ref = np.stack([report003_features(p) for p in sub.path])
    report_row = (f'(1) report 003 loop ({len(sub)} clips, extrapolated)', len(sub), time.perf_counter() - t)
    t = time.perf_counter()
    with threadpool_limits(1):
        for p in sub.path: report003_features(p)
    rows.append((f'(1b) same loop, BLAS 1 thread ({len(sub)} clips)', len(sub), time.perf_counter() - t))

    cache = tempfile.mkdtemp(prefix='ser_nb_bench_')
    try:
        t = time.perf_counter()
        cold = extract(df, 'seq154', cache_dir=cache, n_jobs=a.jobs, progress=False)
        rows.append((f'(2) ser_nb cold (empty cache, {joblib.effective_n_jobs(a.jobs)} processes)', n, time.perf_counter() - t))
        t = time.perf_counter()
        warm = extract(df, 'seq154', cache_dir=cache, n_jobs=a.jobs, progress=False)
        rows.append(('(3) ser_nb warm (pack, memory-mapped)', n, time.perf_counter() - t))
        t = time.perf_counter()
        extract(df, 'seq154', cache_dir=cache, n_jobs=a.jobs, progress=False).X.sum()
        rows.append(('(3b) ser_nb warm + reading all of X once', n, time.perf_counter() - t))
        import ser_nb.store as store
        saved, store.PACK_MIN_CLIPS = store.PACK_MIN_CLIPS, 10 ** 9
        try:
            t = time.perf_counter()
            clipwise = extract(df, 'seq154', cache_dir=cache, n_jobs=a.jobs, progress=False)
            rows.append(('(3c) ser_nb warm, per-clip entries (no pack)', n, time.perf_counter() - t))
        finally: store.PACK_MIN_CLIPS = saved
        assert clipwise.n_cached == n - len(cold.skipped) and np.array_equal(clipwise.X, cold.X)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    assert warm.n_cached == cold.n_clips and np.array_equal(warm.X, cold.X)

    # numbers: the report loop and ser_nb on the same clips (ser_nb's peak_normalise has no +1e-7)
    where = {c: i for i, c in enumerate(cold.items.clip_id)}
    keep = [c in where for c in sub.clip_id]
    mine, ref = cold.X[[where[c] for c in sub.clip_id if c in where]], ref[keep]
    err = np.abs(mine - ref)
    blocks = dict(mfcc=slice(0, 13), chroma=slice(13, 25), logmel=slice(25, 153), zcr=slice(153, 154))

    rows = [report_row] + rows
    order = ['(1)', '(1b)', '(2)', '(3)', '(3b)', '(3c)', '(4)', '(4b)']
    rows.sort(key=lambda r: order.index(r[0].split()[0]))
    base, base1 = report_row[1] / report_row[2], rows[1][1] / rows[1][2]
    print()
    print(f"| {'method':48s} | {'clips':>5s} | {'seconds':>8s} | {'clips/s':>8s} | {'× (1)':>8s} | {'× (1b)':>8s} |")
    print(f"|{'-' * 50}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for name, k, s in rows:
        cps = k / s
        print(f"| {name:48s} | {k:5d} | {s:8.2f} | {cps:8.1f} | {cps / base:7.1f}× | {cps / base1:7.1f}× |")
    print()
    print(f"report loop extrapolated to {n} clips: {n / base:.1f} s ((1)), {n / base1:.1f} s ((1b)); "
          f"skipped by ser_nb: {len(cold.skipped)}; examples: {cold.X.shape}")
    print("max |ser_nb - report loop| on the subset: "
          + ", ".join(f"{k} {err[..., s].max():.2g}" for k, s in blocks.items())
          + f" (median |Δ| {np.median(err):.2g}; values span {np.abs(ref).max():.0f})")
    print(f"# load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")


if __name__ == '__main__':
    main()
