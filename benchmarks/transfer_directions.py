"""Directions for a default model that holds up on corpora it never heard, measured by leaving one corpus out.

One-off measurements behind chapter 06g's choices (not the kept runs, which `ser_nb run default_whisper --protocol loco`
makes): a corpus-balanced logistic regression on cached Whisper-base embeddings (`pool='mean_std'`, trimmed 30 dB) of
the five development corpora, each corpus held out once, C fixed per line; variants of layers, pooled statistics,
label set, normalisation (per training corpus, nuisance projection of training-speaker means, per-clip standardisation)
and batch adaptation. Each line printed is one JSON object; `--out` appends them to a JSON list.

    python benchmarks/transfer_directions.py --data-root DATA '{"layers": [[2,3,4]], "C": [0.003], "norm": ["none", "adapt"]}'
"""
import argparse, itertools, json, os, time
from pathlib import Path
import numpy as np, pandas as pd
import ser_nb.preprocess
from ser_nb.data import load_metadata
from ser_nb.probes import corpus_embeddings
from ser_nb.eval import ua

CORPORA = ['ravdess', 'crema-d', 'savee', 'nemo', 'ased']
LABEL_SETS = {5: ['angry', 'fear', 'happy', 'neutral', 'sad'], 6: ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']}

def load(root, labels):
    "Embeddings (n, 7, 1024) and metadata of every clip of the five corpora with one of `labels`."
    Es, metas = [], []
    for ds in CORPORA:
        m = load_metadata(ds, root); m = m[m.emotion.isin(labels)].reset_index(drop=True)
        E, items, _ = corpus_embeddings(m, 'whisper-base', None, 2, False, 'mean_std', 30.)
        Es.append(E); metas.append(items[['dataset', 'speaker', 'emotion']])
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

def loco(E, meta, labels, layers, C, norm='none', stats='mean'):
    "UA (%) of each held-out corpus and their mean."
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    X, y, out = features(E, layers, stats), meta.emotion.map({l: i for i, l in enumerate(labels)}).to_numpy(), {}
    for held in CORPORA:
        te = (meta.dataset == held).to_numpy(); tr = ~te; Xtr, Xte = X[tr], X[te]
        if norm in ('corpus', 'adapt'): Xtr = zscore_groups(Xtr, meta.dataset[tr].to_numpy())
        if norm == 'adapt': Xte = zscore_groups(Xte, np.zeros(te.sum()))
        if norm.startswith('nap'): Xtr, Xte = nap(Xtr, Xte, meta.speaker[tr].to_numpy(), int(norm[3:]))
        sc = StandardScaler().fit(Xtr); w = weights(meta[tr]); w = w * len(w) / w.sum()
        m = LogisticRegression(C=C, max_iter=300, tol=1e-3, random_state=42).fit(sc.transform(Xtr), y[tr], sample_weight=w)
        out[held] = round(100 * ua(y[te], m.predict(sc.transform(Xte))), 1)
    return out | dict(mean=round(float(np.mean([out[c] for c in CORPORA])), 1))

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('grid', help='JSON: lists of layers, C, norm, stats, labels (5 or 6)')
    ap.add_argument('--data-root', default=None); ap.add_argument('--out', default=None, help='JSON list to append the lines to')
    a = ap.parse_args(); g = json.loads(a.grid)
    for n in g.get('labels', [5]):
        E, meta = load(a.data_root, LABEL_SETS[n])
        for layers, C, norm, stats in itertools.product(g.get('layers', [[2, 3, 4]]), g.get('C', [0.003]), g.get('norm', ['none']), g.get('stats', ['mean'])):
            t = time.time(); r = dict(labels=n, layers=layers, C=C, norm=norm, stats=stats, **loco(E, meta, LABEL_SETS[n], layers, C, norm, stats), s=round(time.time() - t))
            print(json.dumps(r), flush=True)
            if a.out:
                p = Path(a.out); rows = json.loads(p.read_text()) if p.exists() else []
                p.write_text(json.dumps(rows + [r], indent=1))

if __name__ == '__main__': main()
