"""Heads over Whisper-base frame sequences instead of one mean per clip, each development corpus held out once.

The default model (chapter 07a) averages every hidden state over the clip's frames and fits one linear head on the
means. This script asks whether the frames themselves carry more that transfers to corpora never heard. It keeps
the default model's features otherwise (Whisper-base states 0-6 of the clip without its 30-dB silent edges, the
five shared labels, (corpus, emotion) cells of equal weight, no training copies) and compares, side by side in one
run, heads that differ only in how they read the frames:

- `mean`: the reference, a logistic regression on each clip's mean over all its frames (as the default model;
  scikit-learn, `C` fixed per line);
- `frames`: the same classifier fitted on single 80-ms steps (`k` steps drawn from each training clip, each with
  its clip's label and 1/k of its weight); a test clip is the mean of its steps' log-probabilities;
- `attention`: attention pooling (a learned score per step, softmax over the clip, zero-initialised so that it
  starts as the mean) and a linear head, trained together with Adam in torch;
- `mean_torch`: the same torch trainer with the score fixed at zero (the mean), so that `attention` is compared
  with its own optimiser and not with scikit-learn's.

The frames are stored as means of 4 encoder frames (80 ms), float16, in `--frames` (written once, atomically).

Each line printed is one JSON object; `--out` appends them to a JSON list. `benchmarks/frame_heads.json` is these two
runs (2 cores; extracting the frames takes about 5 minutes, the four lines 1, 13, 9 and 13 minutes):

    python benchmarks/frame_heads.py --data-root DATA --frames FRAMES --out benchmarks/frame_heads.json \\
        '{"head": ["mean"], "C": [0.001]}' '{"head": ["frames"], "C": [0.0002], "k": [6]}'
    python benchmarks/frame_heads.py --data-root DATA --frames FRAMES --out benchmarks/frame_heads.json \\
        '{"head": ["mean_torch", "attention"], "lr": [0.001], "epochs": [25]}'
"""
import argparse, itertools, json, os, time
from pathlib import Path
import numpy as np, pandas as pd

CORPORA = ['ravdess', 'crema-d', 'savee', 'nemo', 'ased']
LABELS = ['angry', 'fear', 'happy', 'neutral', 'sad']
GROUP = 4   # encoder frames (20 ms each) averaged into one stored step

def clip_steps(path: str) -> tuple[np.ndarray, np.ndarray]:
    "One clip's steps `(T, 7, 512)` float16 (means of `GROUP` frames) and its exact mean over all frames `(7, 512)`."
    from ser_nb.preprocess import load_audio
    from ser_nb.encoders import trim_edges
    from ser_nb.onnx_whisper import fast_whisper_encoder
    global _ENC
    if '_ENC' not in globals(): _ENC = fast_whisper_encoder('onnx')
    f = _ENC.embed(trim_edges(load_audio(path, 16000), 16000, 30.), 16000, pool='none')   # (7, frames, 512)
    n = f.shape[1] // GROUP * GROUP
    g = f[:, :n].reshape(7, -1, GROUP, 512).mean(2) if n else f.mean(1, keepdims=True)
    return g.transpose(1, 0, 2).astype(np.float16), f.mean(1)

def _save(path: Path, a: np.ndarray):
    tmp = path.with_suffix('.tmp.npy'); np.save(tmp, a); os.replace(tmp, path)

def load_frames(root, folder: Path, jobs: int = 2):
    "Steps of every clip with one of `LABELS` (concatenated), clip offsets, clip means, metadata; extracted once into `folder`."
    from ser_nb.data import load_metadata
    meta = pd.concat([m[m.emotion.isin(LABELS)] for m in (load_metadata(d, root) for d in CORPORA)], ignore_index=True)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / 'means.npy').exists():
        from concurrent.futures import ProcessPoolExecutor
        from tqdm.auto import tqdm
        os.environ.update(OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1')
        with ProcessPoolExecutor(jobs) as ex:
            out = list(tqdm(ex.map(clip_steps, meta.path.astype(str), chunksize=8), total=len(meta), desc='frames'))
        lens = np.array([s.shape[0] for s, _ in out])
        _save(folder / 'steps.npy', np.concatenate([s for s, _ in out])); _save(folder / 'offsets.npy', np.r_[0, np.cumsum(lens)])
        _save(folder / 'means.npy', np.stack([m for _, m in out]).astype(np.float32))
    S, off, M = (np.load(folder / f) for f in ('steps.npy', 'offsets.npy', 'means.npy'))
    if len(M) != len(meta): raise RuntimeError(f'{folder} holds {len(M)} clips, the corpora {len(meta)}: remove it to extract again')
    return S, off, M.reshape(len(M), -1), meta

def _logreg(Z, y, w, C):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=C, max_iter=300, tol=1e-3, random_state=42).fit(Z, y, sample_weight=w)

def head_mean(S, off, M, y, w, tr, te, mu, sd, C=0.001, **_):
    return _logreg((M[tr] - mu) / sd, y[tr], w, C).predict_proba((M[te] - mu) / sd)

def head_frames(S, off, M, y, w, tr, te, mu, sd, C=0.0002, k=6, seed=0, **_):
    rng, lens = np.random.default_rng(seed), np.diff(off)
    rows = [off[i] + rng.choice(lens[i], min(k, lens[i]), replace=False) for i in tr]
    n = np.array([len(r) for r in rows]); rows = np.concatenate(rows)
    ws = np.repeat(w / n, n); ws *= len(ws) / ws.sum()
    model = _logreg((S[rows].reshape(len(rows), -1).astype(np.float32) - mu) / sd, np.repeat(y[tr], n), ws, C)
    lp = [model.predict_log_proba((S[off[i]:off[i + 1]].reshape(lens[i], -1).astype(np.float32) - mu) / sd).mean(0) for i in te]
    return np.exp(np.array(lp))

def head_torch(S, off, M, y, w, tr, te, mu, sd, attention=True, lam=0.07, lr=1e-3, epochs=25, batch=128, seed=0, **_):
    "Attention pooling (or the plain mean) + a linear head, Adam, L2 `lam` on the head (and on the scores) as C 0.001 would."
    import torch
    torch.manual_seed(seed); rng, lens = np.random.default_rng(seed), np.diff(off)
    d, k = M.shape[1], len(LABELS)
    out = torch.nn.Linear(d, k); score = torch.nn.Linear(d, 1)
    torch.nn.init.zeros_(score.weight); torch.nn.init.zeros_(score.bias)
    params = list(out.parameters()) + (list(score.parameters()) if attention else [])
    penalised = [out.weight] + ([score.weight] if attention else [])
    opt = torch.optim.Adam(params, lr=lr)
    def batch_of(ids):
        T = lens[ids].max(); x = np.zeros((len(ids), T, d), np.float32); mask = np.zeros((len(ids), T), bool)
        for j, i in enumerate(ids): x[j, :lens[i]] = (S[off[i]:off[i + 1]].reshape(lens[i], -1) - mu) / sd; mask[j, :lens[i]] = True
        return torch.from_numpy(x), torch.from_numpy(mask)
    def logits(x, mask):
        s = score(x).squeeze(-1) if attention else torch.zeros(mask.shape)
        a = torch.softmax(s.masked_fill(~mask, -1e4), 1)
        return out((a.unsqueeze(-1) * x).sum(1))
    wall = np.zeros(len(y), np.float32); wall[tr] = w                               # weights by clip index
    yt, wt = torch.from_numpy(y), torch.from_numpy(wall)
    for _ in range(epochs):
        order = tr[np.argsort(lens[tr] + rng.uniform(0, 1, len(tr)))]                 # similar lengths together
        bs = [order[i:i + batch] for i in range(0, len(order), batch)]; rng.shuffle(bs)
        for ids in bs:
            x, mask = batch_of(ids)
            loss = (torch.nn.functional.cross_entropy(logits(x, mask), yt[ids], reduction='none') * wt[ids]).mean()
            loss = loss + lam * sum((p ** 2).sum() for p in penalised)
            opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad(): return np.concatenate([torch.softmax(logits(*batch_of(te[i:i + 256])), -1).numpy() for i in range(0, len(te), 256)])

HEADS = {'mean': head_mean, 'frames': head_frames, 'attention': head_torch,
         'mean_torch': lambda *a, **kw: head_torch(*a, **{**kw, 'attention': False})}

def loco(S, off, M, meta, head: str, **kw) -> dict:
    "UA (%) of each held-out corpus and their mean for one head."
    from ser_nb.eval import ua
    from ser_nb.transfer import cell_weights
    y = meta.emotion.map({l: i for i, l in enumerate(LABELS)}).to_numpy(); res = {}
    for held in CORPORA:
        te, tr = np.flatnonzero(meta.dataset == held), np.flatnonzero(meta.dataset != held)
        mu, sd = M[tr].mean(0), M[tr].std(0) + 1e-6
        w = cell_weights(meta.iloc[tr].assign(label=meta.emotion.iloc[tr]))   # every (corpus, emotion) cell the same total
        P = HEADS[head](S, off, M, y, w, tr, te, mu, sd, **kw)
        res[held] = round(100 * ua(y[te], P.argmax(1)), 1)
    res['mean'] = round(float(np.mean([res[c] for c in CORPORA])), 1)
    return res

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('grids', nargs='+', help='JSON objects: lists of values per key (head, C, k, lr, epochs, lam)')
    ap.add_argument('--data-root', default=None); ap.add_argument('--frames', required=True, help='folder for the extracted steps')
    ap.add_argument('--jobs', type=int, default=2); ap.add_argument('--out', default=None, help='append the lines to this JSON list')
    a = ap.parse_args(argv)
    S, off, M, meta = load_frames(a.data_root, Path(a.frames), a.jobs)
    print(f'# {len(meta)} clips, {len(S)} steps of 80 ms', flush=True)
    for grid in map(json.loads, a.grids):
        for vals in itertools.product(*grid.values()):
            cfg, t = dict(zip(grid, vals)), time.time()
            line = {**cfg, **loco(S, off, M, meta, **cfg), 's': round(time.time() - t)}
            print(json.dumps(line), flush=True)
            if a.out:
                p = Path(a.out); rows = json.loads(p.read_text()) if p.exists() else []
                p.write_text(json.dumps(rows + [line], indent=1) + '\n')

if __name__ == '__main__': main()
