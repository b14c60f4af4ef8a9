"""Directions for a default model that holds up on corpora it never heard, measured by leaving one corpus out.

One-off measurements behind chapter 06g's choices (not the kept runs, which `ser_nb run default_whisper --protocol loco`
makes): a corpus-balanced logistic regression on cached Whisper-base embeddings (`pool='mean_std'`, trimmed 30 dB) of
the five development corpora, each corpus held out once, C fixed per line; variants of layers, pooled statistics,
label set, normalisation (per training corpus, nuisance projection of training-speaker means, per-clip standardisation),
batch adaptation, a product with a probe on chapter 06e's handcrafted descriptors (`"fusion": [0.5, 1.0]`: its
probabilities to that power), and training copies under other recording conditions (`"copies": ["recording"]`: one copy of each clip
with noise at 5-20 dB SNR, a simulated room, a telephone band, or several, at -20 to +6 dB gain) or at other speeds (`"copies": ["speed"]`:
chapter 03's SpeedPerturb at 0.9x and 1.1x, as `--set speeds=0.9,1.1`); test clips as they are. Each line printed is one JSON object; `--out` appends them to a JSON list.

    python benchmarks/transfer_directions.py --data-root DATA '{"layers": [[2,3,4]], "C": [0.003], "norm": ["none", "adapt"]}'
    python benchmarks/transfer_directions.py --data-root DATA '{"layers": [[[1,2,3],[2,3,4],[3,4,5]]], "C": [0.003]}'   # an ensemble
"""
import argparse, dataclasses, itertools, json, os, time
from pathlib import Path
import numpy as np, pandas as pd
import ser_nb.preprocess
from ser_nb.data import load_metadata
from ser_nb.probes import corpus_embeddings
from ser_nb.eval import ua
from ser_nb.augment import SpeedPerturb

CORPORA = ['ravdess', 'crema-d', 'savee', 'nemo', 'ased']
LABEL_SETS = {5: ['angry', 'fear', 'happy', 'neutral', 'sad'], 6: ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']}

def _rms(y): return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)) + 1e-12))

def noisy(y, sr, rng):
    "White or brownish noise at 5-20 dB SNR."
    n = rng.standard_normal(len(y))
    if rng.uniform() < 0.5: n = np.cumsum(n); n -= np.convolve(n, np.ones(801) / 801, 'same')
    return y + n * _rms(y) / _rms(n) * 10 ** (-rng.uniform(5, 20) / 20)

def room(y, sr, rng):
    "A simulated room: exponentially decaying noise as impulse response, RT60 0.2-0.8 s."
    from scipy.signal import fftconvolve
    rt60 = rng.uniform(0.2, 0.8); t = np.arange(int(rt60 * sr)) / sr
    h = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60) * 0.3; h[0] = 1.0
    z = fftconvolve(y, h)[:len(y)]
    return z * _rms(y) / _rms(z)

def phone(y, sr, rng):
    "A telephone band (300-3400 Hz), clipped now and then."
    from scipy.signal import butter, sosfiltfilt
    z = sosfiltfilt(butter(4, [300, 3400], btype='band', fs=sr, output='sos'), y); z = z * _rms(y) / _rms(z)
    return np.clip(z * 3, -1, 1) / 3 if rng.uniform() < 0.3 else z

@dataclasses.dataclass(frozen=True)
class RecordingCopies:
    "One copy of a clip under other recording conditions (a feature-store augment: `key`, `__call__`)."
    n: int = 1
    @property
    def key(self) -> str: return f'rec-v1-{self.n}'
    def __call__(self, y, sr, emotion=None, seed: int = 0):
        rng, out = np.random.default_rng(seed), []
        for k in range(self.n):
            z = np.asarray(y, np.float64)
            for f in [f for f in (noisy, room, phone) if rng.uniform() < 0.5] or [(noisy, room, phone)[rng.integers(3)]]: z = f(z, sr, rng)
            out.append((f'rec{k}', np.clip(z * 10 ** (rng.uniform(-20, 6) / 20), -1, 1).astype(np.float32)))
        return out

def load(root, labels, copies=None):
    "Embeddings (n, 7, 1024) and metadata (`aug`: 'orig' or a copy) of every clip of the five corpora with one of `labels`."
    from ser_nb.encoders import EmbeddingSpec
    from ser_nb.store import extract
    Es, metas = [], []
    for ds in CORPORA:
        m = load_metadata(ds, root); m = m[m.emotion.isin(labels)].reset_index(drop=True)
        r = extract(m, EmbeddingSpec('whisper-base', pool='mean_std', trim_db=30.), n_jobs=2, progress=False,
                    augment={'recording': RecordingCopies(1), 'speed': SpeedPerturb((0.9, 1.1))}.get(copies))
        items = r.items.reset_index(drop=True)
        Es.append(np.asarray(r.X, np.float32)); metas.append(items[['dataset', 'speaker', 'emotion']].assign(aug=items.get('aug', 'orig')))
    return np.concatenate(Es), pd.concat(metas, ignore_index=True)

def _inst(A): return (A - A.mean(-1, keepdims=True)) / (A.std(-1, keepdims=True) + 1e-6)

def features(E, layers, stats):
    "The chosen layers of the chosen pooled statistics ('inst': mean and std each standardised over its own dimensions)."
    X, h = E[:, layers], E.shape[-1] // 2
    X = {'mean': X[..., :h], 'std': X[..., h:], 'mean_std': X, 'inst': np.concatenate([_inst(X[..., :h]), _inst(X[..., h:])], -1)}[stats]
    return X.reshape(len(X), -1)

def zscore_groups(X, groups):
    X = X.copy()
    for g in np.unique(groups):
        i = groups == g; X[i] = (X[i] - X[i].mean(0)) / (X[i].std(0) + 1e-6)
    return X

def nap(Xtr, Xte, spk, k):
    "Remove the top-k directions of the training speakers' mean vectors (standardised space) from both sides."
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-6
    Ztr, Zte = (Xtr - mu) / sd, (Xte - mu) / sd
    M = np.stack([Ztr[spk == s].mean(0) for s in np.unique(spk)]); M -= M.mean(0)
    U = np.linalg.svd(M, full_matrices=False)[2][:k].T
    return Ztr - (Ztr @ U) @ U.T, Zte - (Zte @ U) @ U.T

def weights(meta):
    "Every (corpus, emotion) cell the same total weight."
    key = meta.dataset + '|' + meta.emotion
    return (1.0 / key.map(key.value_counts())).to_numpy()

def handcrafted(root, labels):
    "Chapter 06e's descriptors of the same clips (originals), in `load`'s order, NaN as 0."
    from ser_nb.handcrafted import HandcraftedSpec
    from ser_nb.store import extract
    out = []
    for ds in CORPORA:
        m = load_metadata(ds, root); m = m[m.emotion.isin(labels)].reset_index(drop=True)
        out.append(np.asarray(extract(m, HandcraftedSpec(), n_jobs=2, progress=False).X, np.float32).reshape(len(m), -1))
    return np.nan_to_num(np.concatenate(out))

def loco(E, meta, labels, layers, C, norm='none', stats='mean', H=None, power=0.):
    """UA (%) of each held-out corpus and their mean (`H`, `power`: multiply by a handcrafted probe's probabilities to `power`).
    `layers` a list of lists (e.g. [[1,2,3],[2,3,4],[3,4,5]]): an ensemble, one probe per run of layers, probabilities averaged."""
    fits = [loco_proba(E, meta, labels, l, C, norm, stats, H, power) for l in (layers if isinstance(layers[0], list) else [layers])]
    y = fits[0][0]
    out = {held: round(100 * ua(y[held], np.mean([P[held] for _, P in fits], 0).argmax(1)), 1) for held in CORPORA}
    return out | dict(mean=round(float(np.mean([out[c] for c in CORPORA])), 1))

def loco_proba(E, meta, labels, layers, C, norm='none', stats='mean', H=None, power=0.):
    "Each held-out corpus's labels and probabilities (dicts by corpus) from a probe trained on the other four."
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    X, y, ys, Ps = features(E, layers, stats), meta.emotion.map({l: i for i, l in enumerate(labels)}).to_numpy(), {}, {}
    orig = (meta.aug == 'orig').to_numpy()
    for held in CORPORA:
        te = (meta.dataset == held).to_numpy() & orig; tr = (meta.dataset != held).to_numpy(); Xtr, Xte = X[tr], X[te]
        if norm in ('corpus', 'adapt'): Xtr = zscore_groups(Xtr, meta.dataset[tr].to_numpy())
        if norm == 'adapt': Xte = zscore_groups(Xte, np.zeros(te.sum()))
        if norm.startswith('nap'): Xtr, Xte = nap(Xtr, Xte, meta.speaker[tr].to_numpy(), int(norm[3:]))
        sc = StandardScaler().fit(Xtr); w = weights(meta[tr]); w = w * len(w) / w.sum()
        m = LogisticRegression(C=C, max_iter=300, tol=1e-3, random_state=42).fit(sc.transform(Xtr), y[tr], sample_weight=w)
        P = m.predict_proba(sc.transform(Xte))
        if H is not None and power:
            hs = StandardScaler().fit(H[tr])
            h = LogisticRegression(C=0.01, max_iter=500, tol=1e-3, random_state=42).fit(hs.transform(H[tr]), y[tr], sample_weight=w)
            P = P * h.predict_proba(hs.transform(H[te])) ** power
        ys[held], Ps[held] = y[te], P
    return ys, Ps

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('grid', help='JSON: lists of layers, C, norm, stats, labels (5 or 6)')
    ap.add_argument('--data-root', default=None); ap.add_argument('--out', default=None, help='JSON list to append the lines to')
    a = ap.parse_args(); g = json.loads(a.grid)
    for n, copies in itertools.product(g.get('labels', [5]), g.get('copies', [None])):
        E, meta = load(a.data_root, LABEL_SETS[n], copies)
        H = handcrafted(a.data_root, LABEL_SETS[n]) if g.get('fusion') and not copies else None
        for layers, C, norm, stats, power in itertools.product(g.get('layers', [[2, 3, 4]]), g.get('C', [0.003]), g.get('norm', ['none']),
                                                               g.get('stats', ['mean']), g.get('fusion', [0.])):
            t = time.time(); r = dict(labels=n, layers=layers, C=C, norm=norm, stats=stats, copies=copies,
                                      **({'fusion': power} if power else {}), **loco(E, meta, LABEL_SETS[n], layers, C, norm, stats, H, power),
                                      s=round(time.time() - t))
            print(json.dumps(r), flush=True)
            if a.out:
                p = Path(a.out); rows = json.loads(p.read_text()) if p.exists() else []
                p.write_text(json.dumps(rows + [r], indent=1))

if __name__ == '__main__': main()
