"""What the report pages share (nbs/reports/*.ipynb run it with `%run _report.py`; not part of the package).

Everything here reads the runs kept under `results/RECIPE-PROTOCOL/` (`metrics.json`, `predictions.csv`): tables,
confusion matrices, per-class tables and the verdict against a report's published number. A run that is not kept
is named with the command that makes it, never given a number.
"""
from pathlib import Path
import pandas as pd
import html, re
from IPython.display import HTML, Markdown, display
from ser_nb.eval import load_runs, markdown_table, is_transductive, confusion, plot_confusion, set_suffix
from ser_nb.recipes import get_recipe, set_args

RESULTS = Path('../../results')  # from nbs/reports/, where the pages run
TOLERANCE = 0.02  # within 2 points of the published accuracy counts as reproduced (single splits move more than that)


def run_label(m: dict) -> str:
    "A kept run's recipe as its command names it: `RECIPE`, then ` --set KEY=VALUE` for each setting it changed."
    return m['recipe'] + ''.join(f' --set {a}' for a in set_args(m.get('set') or {})[1::2])


def _recipe(label: str):
    "The registered recipe of a run label (`run_label`)."
    return get_recipe(label.split(' --set ')[0])


def run_key(m: dict) -> tuple:
    "A kept run's key: `(label, protocol)` on the recipe's own corpora, `(label, protocol, corpora)` on others; the label is `run_label`."
    try: own = set(m.get('datasets') or []) == set(get_recipe(m['recipe']).datasets)
    except KeyError: own = True   # a recipe no longer registered: treat its runs as on its own corpora
    return (run_label(m), m['protocol']) if own else (run_label(m), m['protocol'], '+'.join(m['datasets']))


def kept_runs(folder=RESULTS) -> dict:
    "The kept runs, by `run_key`: a run on other corpora than its recipe's never stands in for one on its own."
    if not Path(folder).is_dir(): raise FileNotFoundError(f'no results folder at {Path(folder).resolve()}')
    return {run_key(m): m for m in load_runs(folder)}


def run_folder(key: tuple, folder=RESULTS) -> Path:
    "The folder of a kept run: RECIPE-PROTOCOL, or RECIPE-CORPORA-PROTOCOL on other corpora, then `-set-KEY=VALUE…` (`benchmarks/results.py`'s names)."
    name, *sets = key[0].split(' --set ')
    base = f'{name}-{key[1]}' if len(key) == 2 else f'{name}-{key[2]}-{key[1]}'
    return Path(folder)/(base + set_suffix(dict(a.split('=', 1) for a in sets)))


SHARED = ('ravdess', 'crema-d')  # the corpora in ../shared/datasets, beside the repository


def rerun(recipe: str, protocol: str) -> str:
    "The command that makes the run and keeps it under results/ (from the repository root)."
    other = sorted(set(_recipe(recipe).datasets) - set(SHARED))
    root = f"<a data root with {' and '.join(other)}>" if other else '../shared/datasets'
    return f'python benchmarks/results.py --only {recipe} --protocols {protocol} --data-root {root}'


def pct(x: float) -> str: return f'{100*x:.1f}'


def _ms(m: dict, k: str) -> str:
    return f"{pct(m['mean'][k])} ± {pct(m['std'][k])}" if len(m['folds']) > 1 else pct(m['mean'][k])


def _preprocessing(sp) -> str:
    pp = sp.preprocess; parts = [f'resampled to {pp.sr} Hz']
    if pp.offset_s or pp.duration_s: parts.append(f'{pp.duration_s} s read from {pp.offset_s} s on')
    if pp.trim_db is not None: parts.append(f'silence trimmed at {pp.trim_db} dB')
    if pp.normalise or sp.normalise_eps: parts.append('peak-normalised')
    return ', '.join(parts)


def _features(sp) -> str:
    out = f"{' + '.join(sp.features)} (n_mfcc {sp.n_mfcc}, n_mels {sp.n_mels}, FFT {sp.n_fft}, hop {sp.hop_length})"
    if sp.win_s: out += f'; {sp.win_s:g}-s windows every {sp.win_hop_s:g} s'
    if sp.pooling != 'none': out += f'; pooled over time ({sp.pooling})'
    if sp.max_len: out += f'; padded or cut to {sp.max_len} frames' if sp.layout == 'frames' else f'; flattened ({sp.max_len} frames)'
    return out


def _probe(s: dict) -> str:
    if s['classifier'] == 'rf': return f"a Random Forest of {s['n_estimators']} trees on the `{s['layers']}` layer's embeddings"
    return (f"`{s['classifier']}` on the `{s['layers']}` layer(s); the layer and C (from {s['Cs']}) chosen by "
            f"{s['inner_folds']}-fold cross-validation inside the training speakers")


def recipe_step(name: str, step: str) -> HTML:
    "One step of a recipe (data, preprocessing, features, augmentation, model, training), read from the recipe itself."
    r = get_recipe(name); d = r.to_dict(); s = d['settings']; keras = r.kind == 'keras'
    if keras or step in ('data', 'preprocessing'):
        from ser_nb.features import get_spec
        sp = get_spec(s['spec']) if keras else None
    if step == 'data': text = f"corpora {', '.join(r.datasets)}; {len(r.label_names)} classes: {', '.join(r.label_names)}"
    elif step == 'preprocessing': text = _preprocessing(sp) if keras else f"as the encoder `{s['encoder']}` expects"
    elif step == 'features': text = f"`{s['spec']}`: {_features(sp)}" if keras else f"frozen encoder `{s['encoder']}`, mean-pooled per layer"
    elif step == 'augmentation': text = f"`{s['augment']}`" if keras else 'none'
    elif step == 'model': text = f"`{s['model']}`" if keras else f"`{s['classifier']}` on the embeddings"
    elif step == 'training':
        text = (f"loss `{s['loss']}`{' ' + str(s['loss_kw']) if s['loss_kw'] else ''}, {s['optimizer']} at {s['learning_rate']}, "
                f"batch {s['batch_size']}, up to {s['epochs']} epochs, class weights {'on' if s['class_weight'] else 'off'}, "
                f"{int(100*s['val_fraction'])} % of the training clips held out for validation") if keras else _probe(s)
    else: raise ValueError(f'unknown step {step!r}')
    body = re.sub(r'`([^`]+)`', r'<code>\1</code>', html.escape(f'`{name}` — {step}: {text}', quote=False))
    return HTML(f'<p class="recipe-step">{body}</p>')


def _protocols(runs: dict, name: str) -> list[str]:
    "The report's protocol, the speaker-independent one, and any other kept; the random split first. A run label with `--set` has only its kept ones."
    r = get_recipe(name) if ' --set ' not in name else None
    ps = dict.fromkeys([*([r.protocol, r.si_protocol] if r else []), *sorted(k[1] for k in runs if len(k) == 2 and k[0] == name)])
    return sorted(ps, key=lambda p: p != 'random')


def _run_row(m: dict, p: str) -> dict:
    note = ['**transductive**'] if is_transductive(m) else []
    if m.get('epochs_cap'): note.append(f"≤ {m['epochs_cap']} epochs")
    if m.get('encoder'): note.append(f"{m['encoder']} encoder")
    return {'protocol': f"{p} ×{len(m['folds'])}", 'UA': _ms(m, 'ua'), 'WA': _ms(m, 'wa'), 'macro-F1': _ms(m, 'macro_f1'),
            'note': '; '.join(note)}


def runs_table(runs: dict, names: list[str], corpora: str | None = None) -> Markdown:
    """One row per (recipe, protocol × folds): UA, WA, macro-F1 (%, mean ± std over folds); the commands of missing runs below.
    A recipe's runs on its own corpora come first (missing ones named), then its kept runs on other corpora; with
    `corpora` (e.g. 'savee'), only the runs on exactly those corpora."""
    rows, missing = [], []
    for name in names:
        r = _recipe(name); pub = r.published; own = '+'.join(r.datasets)
        if corpora is None or corpora == own:
            for p in _protocols(runs, name):
                m = runs.get((name, p))
                row = {'recipe': f'`{name}`', 'corpora': own, 'protocol': p, 'report': pct(pub['value']) if pub and p == 'random' else ''}
                if m is None:
                    missing.append(rerun(name, p))
                    rows.append(row | {'UA': '—', 'WA': '—', 'macro-F1': '—', 'note': 'not re-run yet'}); continue
                if m.get('test_datasets'): row['corpora'] = f"{own} → {'+'.join(m['test_datasets'])}"
                rows.append(row | _run_row(m, p))
        for k, m in sorted(runs.items()):
            if len(k) == 3 and k[0] == name and corpora in (None, k[2]):
                rows.append({'recipe': f'`{name}`', 'corpora': k[2], 'report': ''} | _run_row(m, k[1]))
    cols = ['recipe', 'corpora', 'protocol', 'UA', 'WA', 'macro-F1', 'report', 'note']
    out = markdown_table(pd.DataFrame(rows, columns=cols))
    if missing: out += ('\n\nNot re-run yet; from the repository root, each of these commands runs one and keeps it '
                        'under `results/`:\n\n```sh\n' + '\n'.join(missing) + '\n```')
    return Markdown(out)


def show_confusions(runs: dict, keys: list[tuple[str, str]], folder=RESULTS) -> None:
    "Row-normalised confusion matrices of kept runs, pooled over folds, drawn from predictions.csv, two to a row."
    import matplotlib.pyplot as plt
    kept = [k for k in keys if k in runs]
    for i in range(0, len(kept), 2):
        pair = kept[i:i + 2]
        fig, axes = plt.subplots(1, len(pair), figsize=(3.8*len(pair), 3.9), dpi=110, squeeze=False)
        for ax, k in zip(axes[0], pair):
            m = runs[k]
            clips = pd.read_csv(run_folder(k, folder)/'predictions.csv')
            tag = ', transductive' if is_transductive(m) else ''
            on = f' on {k[2]}' if len(k) == 3 else ''
            plot_confusion(confusion(clips.label, clips.pred, m['labels'], normalise=True), ax,
                           f"{k[0]}{on}, {k[1]}\n{len(m['folds'])} fold(s), {len(clips)} clips{tag}")
            ax.title.set_fontsize(9)
        fig.tight_layout(); plt.show()
    gone = [f'`{k[0]}` under {k[1]}' for k in keys if k not in runs]
    if gone: display(Markdown('Not re-run yet (the commands are under the table above): ' + ', '.join(gone) + '.'))


def per_class_table(runs: dict, name: str, protocol: str, published_f1: dict | None = None) -> Markdown:
    "A kept run's per-class precision, recall, F1 and support (clips of all folds), beside the report's F1 where it gives one."
    m = runs.get((name, protocol))
    if m is None: return Markdown(f'`{name}` under {protocol}: not re-run yet (the command is under the table above).')
    df = pd.DataFrame(m['per_class']).set_index('class')
    out = pd.DataFrame({'precision': df.precision.map(pct), 'recall': df.recall.map(pct), 'F1': df.f1.map(pct),
                        'support': df.support.astype(int)})
    if published_f1: out["report's F1"] = [pct(published_f1[c]) if c in published_f1 else '' for c in out.index]
    return Markdown(f"`{name}`, {protocol} (%):\n\n" + markdown_table(out.reset_index()))


def _rivals(runs: dict, name: str, protocol: str, transductive: bool = False) -> list[dict]:
    "Other recipes' kept runs on the same corpora and classes under `protocol`."
    r = get_recipe(name)
    return [m for k, m in runs.items() if k[1] == protocol and k[0] != name and set(m['datasets']) == set(r.datasets)
            and set(m['labels']) == set(r.label_names) and not m.get('test_datasets') and is_transductive(m) == transductive]


def _who(m: dict) -> str:
    "A run's recipe name (and `--set` changes), with the encoder it used where it has one."
    return f"`{run_label(m)}`" + (f" ({m['encoder']} encoder)" if m.get('encoder') else '')


def _at_report_protocol(runs: dict, name: str, why_short: str, rivals: bool, tol: float) -> str:
    r = get_recipe(name); pub = r.published; m = runs.get((name, r.protocol))
    if m is None: out = f'not re-run yet: `{rerun(name, r.protocol)}`.'
    elif not pub: out = f"the report gives no number to reproduce; ours: {pct(m['mean']['wa'])} % accuracy ({pct(m['mean']['ua'])} UA)."
    else:
        ours, theirs = m['mean']['wa'], pub['value']; d = ours - theirs
        if abs(d) <= tol: out = f"**reproduced**: {pct(ours)} % accuracy against the report's {pct(theirs)} % ({100*d:+.1f} points)."
        elif d > 0: out = f"**beaten**: our run of the report's recipe reaches {pct(ours)} % accuracy against the report's {pct(theirs)} % ({100*d:+.1f} points)."
        else: out = f"**short** by {-100*d:.1f} points: {pct(ours)} % accuracy against the report's {pct(theirs)} %. {why_short}".rstrip()
    best = max(_rivals(runs, name, r.protocol), key=lambda x: x['mean']['wa'], default=None) if rivals and pub else None
    if best and best['mean']['wa'] > pub['value'] + tol:
        out += (f" On the same split, {_who(best)} **beats** the report: {pct(best['mean']['wa'])} % accuracy, "
                f"{100*(best['mean']['wa'] - pub['value']):+.1f} points.")
    return out


def _speaker_independent(runs: dict, name: str, rivals: bool) -> str:
    r = get_recipe(name); pub = r.published; p = r.si_protocol
    m, mr = runs.get((name, p)), runs.get((name, r.protocol))
    if m is None: out = f'not re-run yet: `{rerun(name, p)}`.'
    else:
        out = f"`{name}` reaches {_ms(m, 'ua')} UA ({_ms(m, 'wa')} % accuracy) over {len(m['folds'])} folds by speaker ({p})"
        if mr is not None and r.protocol != p:
            d = m['mean']['ua'] - mr['mean']['ua']
            out += f", {abs(100*d):.1f} UA points {'below' if d < 0 else 'above'} its random split"
        out += '.'
    best = max(_rivals(runs, name, p), key=lambda x: x['mean']['ua'], default=None) if rivals else None
    if best and m is None: out += f" The best kept recipe on the same folds is {_who(best)}: {_ms(best, 'ua')} UA."
    elif best and best['mean']['ua'] > m['mean']['ua']:
        out += (f" {_who(best)} does better on the same folds: {_ms(best, 'ua')} UA, "
                f"{100*(best['mean']['ua'] - m['mean']['ua']):+.1f} points.")
    top = max([x for x in [m, best] if x is not None], key=lambda x: x['mean']['wa'], default=None)
    if pub and top is not None:
        if top['mean']['wa'] > pub['value']:
            out += (f" Even on new speakers, {_who(top)} reaches {pct(top['mean']['wa'])} % accuracy, above the report's "
                    f"random-split {pct(pub['value'])} %.")
        else: out += f" No kept run reaches the report's random-split {pct(pub['value'])} % on new speakers."
    for t in (_rivals(runs, name, p, transductive=True) if rivals else []):
        out += (f" (Transductive `{t['recipe']}`: {_ms(t, 'ua')} UA; it normalised each test speaker with that speaker's "
                f"own clips, so it is left out of every comparison above.)")
    return out


def verdict(runs: dict, name: str, why_short: str = '', rivals: bool = True, tol: float = TOLERANCE) -> Markdown:
    "The verdict on a report's recipe, computed from the kept runs: under the report's protocol, then speaker-independently."
    return Markdown(f"- **Under the report's protocol** ({get_recipe(name).protocol}): "
                    f"{_at_report_protocol(runs, name, why_short, rivals, tol)}\n"
                    f"- **Speaker-independently**: {_speaker_independent(runs, name, rivals)}")
