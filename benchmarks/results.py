"""The results table: every report recipe under its report's protocol and a speaker-independent one.

Runs `ser_nb run` for each (recipe, protocol) of the plan below on the real corpora (../shared/datasets or
--data-root), one subprocess each, then collects every `metrics.json` into a markdown table.

    python benchmarks/results.py --data-root ../shared/datasets --out runs/results      # run all, then the table
    python benchmarks/results.py --out runs/results --collect                             # table from finished runs
    python benchmarks/results.py --only pooled_cnn_lstm --epochs 5                        # a subset, capped epochs

Writes runs/results/results.md (and prints it) with the command and wall time of each run.
"""
import argparse, json, os, shlex, subprocess, sys, time
from pathlib import Path

# (recipe, protocol, extra `ser_nb run` arguments). Speaker-independent: EmoBox folds for RAVDESS, 5 folds by
# speaker for the others (LOSO for SAVEE's 4 speakers).
PLAN = [
    ('pooled_lstm', 'random', []), ('pooled_lstm', 'emobox', []),
    ('pooled_cnn', 'random', []), ('pooled_cnn', 'emobox', []),
    ('pooled_cnn_lstm', 'random', []), ('pooled_cnn_lstm', 'emobox', []),
    ('mfcc2d_cnn_bilstm', 'random', []), ('mfcc2d_cnn_bilstm', 'emobox', []),
    ('seq_cnn_bilstm', 'random', []), ('seq_cnn_bilstm', 'speaker-kfold', []),
    ('windows_cnn_bilstm', 'random', []), ('windows_cnn_bilstm', 'speaker-kfold', []),
    ('msf_deep_cnn', 'random', []), ('msf_deep_cnn', 'loso', []),
    ('wav2vec_rf', 'random', []), ('wav2vec_rf', 'emobox', []),
    ('whisper_probe', 'random', []), ('whisper_probe', 'emobox', []),
    ('whisper_probe_sn', 'emobox', []), ('whisper_probe_fusion', 'emobox', []),
    ('whisper_probe_crema', 'speaker-kfold', []),
]

def pct(x): return f'{100*x:.1f}'

def row(m: dict) -> str:
    "One markdown row of a run's metrics."
    ms = lambda k: f"{pct(m['mean'][k])}±{pct(m['std'][k])}" if len(m['folds']) > 1 else pct(m['mean'][k])
    pub = m.get('published') or {}
    pub_s = f"{m['report']}: {pct(pub['value'])}" if pub else f"{m['report']}: —"
    cap = f", ≤{m['epochs_cap']} ep" if m.get('epochs_cap') else ''
    return (f"| `{m['recipe']}` | {pub_s} | {m['protocol']} ×{len(m['folds'])}{cap} | {ms('ua')} | {ms('wa')} | {ms('macro_f1')} |")

def table(out: Path) -> str:
    "The markdown table of every metrics.json under `out`, in plan order, and the commands that made them."
    lines = ['| recipe | report: its accuracy | protocol × folds | UA | WA | macro-F1 |', '|---|---|---|---|---|---|']
    cmds = []
    for rec, proto, _ in PLAN:
        f = out/f'{rec}-{proto}'/'metrics.json'
        if not f.exists(): continue
        m = json.loads(f.read_text())
        lines.append(row(m)); cmds.append(f"- `{m.get('command')}` — {m['seconds']['total']:.0f} s")
    return '\n'.join(lines) + '\n\nCommands (wall times on this machine):\n\n' + '\n'.join(cmds) + '\n'

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data-root', default=None)
    ap.add_argument('--out', default='runs/results')
    ap.add_argument('--only', nargs='*', help='recipes to run (default: all in the plan)')
    ap.add_argument('--protocols', nargs='*', help='protocols to run (default: both)')
    ap.add_argument('--epochs', type=int, default=None, help='cap epochs of every Keras recipe')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--collect', action='store_true', help='only build the table from finished runs')
    ap.add_argument('--skip-done', action='store_true', help='skip runs whose metrics.json exists')
    a = ap.parse_args()
    out = Path(a.out)
    if not a.collect:
        for rec, proto, extra in PLAN:
            if a.only and rec not in a.only: continue
            if a.protocols and proto not in a.protocols: continue
            dest = out/f'{rec}-{proto}'
            if a.skip_done and (dest/'metrics.json').exists(): continue
            cmd = ['ser_nb', 'run', rec, '--protocol', proto, '--out', str(dest), '--jobs', str(a.jobs), *extra]
            if a.data_root: cmd += ['--data-root', a.data_root]
            if a.epochs: cmd += ['--epochs', str(a.epochs)]
            print('$', shlex.join(cmd), flush=True)
            t0 = time.time()
            r = subprocess.run(cmd)
            print(f'  exit {r.returncode} after {time.time() - t0:.0f} s', flush=True)
    md = table(out)
    (out/'results.md').parent.mkdir(parents=True, exist_ok=True)
    (out/'results.md').write_text(md)
    print(md)

if __name__ == '__main__': main()
