"""The results table: every recipe under its report's protocol and a speaker-independent one.

Runs `ser_nb run` for each (recipe, protocol) of the plan below on the real corpora (../shared/datasets or
--data-root), one subprocess each, keeps each run's small files (`metrics.json`, `predictions.csv`,
`report.md`) under `results/RECIPE-PROTOCOL/` in the repository, then prints the table that chapter 06 draws
from them.

    python benchmarks/results.py --data-root ../shared/datasets              # run all, keep, then the table
    python benchmarks/results.py --collect                                    # the table from the kept runs
    python benchmarks/results.py --only pooled_cnn_lstm --epochs 5            # a subset, capped epochs

Full run folders (with bundles and pictures) go to --out (default runs/results, not kept in git).
"""
import argparse, shlex, shutil, subprocess, time
from pathlib import Path

# (recipe, protocol, extra `ser_nb run` arguments). Speaker-independent: EmoBox folds for RAVDESS, 5 folds by
# speaker for the others (LOSO for SAVEE's 4 speakers). 'cross-corpus' rows train on the --dataset corpora and test
# on the --test-dataset ones (no --protocol). Each report's own ground is its random split; the whisper_probe rows
# under 'random' are ser_nb's best recipe there, beside the report's own recipe.
# Names such as whisper_probe_plain or handcrafted_cepstral are variants: a main recipe with `--set` (and
# `--dataset`) arguments that `ser_nb recipes --all` lists; their kept runs record them as `variant_of`.
PLAN = [
    ('pooled_lstm', 'random', []), ('pooled_lstm', 'emobox', []),
    ('pooled_cnn', 'random', []), ('pooled_cnn', 'emobox', []),
    ('pooled_cnn_lstm', 'random', []), ('pooled_cnn_lstm', 'emobox', []),
    ('mfcc2d_cnn_bilstm', 'random', ['--epochs', '25']), ('mfcc2d_cnn_bilstm', 'emobox', ['--epochs', '10']),
    ('seq_cnn_bilstm', 'random', []), ('seq_cnn_bilstm', 'speaker-kfold', ['--epochs', '15']),
    ('windows_cnn_bilstm', 'random', []), ('windows_cnn_bilstm', 'speaker-kfold', ['--epochs', '10']),
    ('msf_deep_cnn', 'random', []), ('msf_deep_cnn', 'loso', []),
    ('wav2vec_rf', 'random', []), ('wav2vec_rf', 'emobox', []),
    ('whisper_probe', 'random', []), ('whisper_probe', 'emobox', []),
    ('whisper_probe_all_layers', 'random', []), ('whisper_probe_all_layers', 'emobox', []),
    ('whisper_probe_layers', 'random', []), ('whisper_probe_layers', 'emobox', []),
    ('whisper_probe_plain', 'random', []), ('whisper_probe_plain', 'emobox', []),
    ('whisper_probe_sn', 'emobox', []), ('whisper_probe_fusion', 'emobox', []),
    ('whisper_probe_crema', 'random', []), ('whisper_probe_crema', 'speaker-kfold', []),
    ('whisper_probe', 'speaker-kfold', ['--dataset', 'crema-d']),
    ('whisper_probe_crema_plain', 'random', []), ('whisper_probe_crema_plain', 'speaker-kfold', []),
    ('whisper_probe_000', 'random', []), ('whisper_probe_000', 'speaker-kfold', []),
    ('whisper_probe_000', 'random', ['--set', 'enrolled=true']),      # enrolled speakers: a random split's test voices, centred by their training clips
    ('whisper_probe', 'cross-corpus', ['--dataset', 'ravdess', '--test-dataset', 'crema-d']),
    ('whisper_probe_all_layers', 'cross-corpus', ['--dataset', 'ravdess', '--test-dataset', 'crema-d']),
    ('whisper_probe_plain', 'cross-corpus', ['--dataset', 'ravdess', '--test-dataset', 'crema-d']),
    ('handcrafted_probe', 'emobox', []), ('handcrafted_functionals', 'emobox', []), ('handcrafted_no_profile', 'emobox', []),
    ('handcrafted_prosody_voice', 'emobox', []), ('handcrafted_cepstral', 'emobox', []),
    ('handcrafted_functionals', 'speaker-kfold', ['--dataset', 'crema-d']), ('handcrafted_probe', 'speaker-kfold', ['--dataset', 'crema-d']),
    ('default_whisper_v1', 'speaker-kfold', []),
    ('default_whisper_v1', 'loco', [x for d in ('ravdess', 'crema-d', 'savee', 'nemo', 'ased') for x in ('--dataset', d)]),
    ('default_whisper_v2', 'loco', []),
    ('default_whisper', 'loco', []),
    ('whisper_probe', 'loso', ['--dataset', 'savee']), ('whisper_probe', 'random', ['--dataset', 'savee']),
    ('whisper_probe', 'loso', ['--dataset', 'savee', '--set', 'extra=ravdess,crema-d']),   # SAVEE's 4 speakers + every RAVDESS and CREMA-D clip in training
]
KEEP = ('metrics.json', 'predictions.csv', 'report.md')
RESULTS = Path(__file__).resolve().parent.parent/'results'

def run_name(rec: str, proto: str, extra: list) -> str:
    "The kept folder of a run: RECIPE-PROTOCOL (RECIPE-CORPORA-PROTOCOL on other corpora), or RECIPE-TRAIN-to-TEST for a cross-corpus run; `-set-KEY=VALUE` after it for each `--set`, as `ser_nb run` names its folder."
    from ser_nb.eval import set_suffix
    return _run_name(rec, proto, extra) + set_suffix(dict(v.split('=', 1) for flag, v in zip(extra, extra[1:]) if flag == '--set'))

def _run_name(rec: str, proto: str, extra: list) -> str:
    sides = {'--dataset': [], '--test-dataset': []}
    for flag, val in zip(extra, extra[1:]):
        if flag in sides: sides[flag].append(val)
    if proto != 'cross-corpus': return f"{rec}-{'+'.join(sides['--dataset'])}-{proto}" if sides['--dataset'] else f'{rec}-{proto}'
    return f"{rec}-{'+'.join(sides['--dataset'])}-to-{'+'.join(sides['--test-dataset'])}"

def keep(run: Path, dest: Path) -> None:
    "Copy a finished run's small files into the repository's results folder."
    dest.mkdir(parents=True, exist_ok=True)
    for f in KEEP:
        if (run/f).exists(): shutil.copy2(run/f, dest/f)

def table(folder: Path) -> str:
    "The markdown table of every kept run, and the commands that made them."
    from ser_nb.eval import load_runs, results_table, markdown_table
    t = results_table(load_runs(folder))
    cmds = '\n'.join(f'- `{c}` — {s} s' for c, s in zip(t.command, t.s))
    return markdown_table(t.drop(columns=['command', 's'])) + '\n\nCommands (wall times):\n\n' + cmds + '\n'

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data-root', default=None)
    ap.add_argument('--out', default='runs/results', help='full run folders (not kept in git)')
    ap.add_argument('--results', default=str(RESULTS), help='where the kept files go (default: the repository\'s results/)')
    ap.add_argument('--only', nargs='*', help='recipes to run (default: all in the plan)')
    ap.add_argument('--protocols', nargs='*', help='protocols to run (default: both)')
    ap.add_argument('--epochs', type=int, default=None, help='cap epochs of every Keras recipe')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--collect', action='store_true', help='only print the table of the kept runs')
    ap.add_argument('--skip-done', action='store_true', help='skip runs already kept')
    a = ap.parse_args()
    out, res = Path(a.out), Path(a.results)
    if not a.collect:
        for rec, proto, extra in PLAN:
            if (a.only and rec not in a.only) or (a.protocols and proto not in a.protocols): continue
            name = run_name(rec, proto, extra)
            if a.skip_done and (res/name/'metrics.json').exists(): continue
            cmd = ['ser_nb', 'run', rec, *(['--protocol', proto] if proto != 'cross-corpus' else []), *extra,
                   '--out', str(out/name), '--jobs', str(a.jobs)]
            if a.data_root: cmd += ['--data-root', a.data_root]
            if a.epochs: cmd += ['--epochs', str(a.epochs)]
            print('$', shlex.join(cmd), flush=True)
            t0 = time.time(); r = subprocess.run(cmd)
            print(f'  exit {r.returncode} after {time.time() - t0:.0f} s', flush=True)
            if r.returncode == 0: keep(out/name, res/name)
    print(table(res))

if __name__ == '__main__': main()
