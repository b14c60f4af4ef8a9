"""Where report 002's 63.9 % comes from: its CNN+LSTM under its own training procedure beside ours (issue 21).

Report 002 trained its CNN+LSTM on a random 80/20 split of RAVDESS (1152/288 clips) with
`model.fit(..., validation_data=(X_test, y_test), callbacks=[ReduceLROnPlateau('val_loss', 0.5, 5, min_lr=1e-6),
EarlyStopping('val_loss', patience=10, restore_best_weights=True)])`: the learning-rate schedule, the stopping epoch
and the weights it kept were all chosen on the test clips. This script fits the recipe `pooled_cnn_lstm`'s network on
its features (`pooled160`, 16 kHz as the report's code says, and the same at 48 kHz as the report's log says),
standardised per feature on the training clips as ser_nb does, or left as they are (the report says nothing of scaling), under:

- `honest`: ser_nb's training (`ser_nb.train.train`, what `ser_nb run pooled_cnn_lstm` does on a fold; standardised only):
  10 % of the training clips held out for validation, early stopping and LR schedule on them, test clips unseen;
- `report`: the report's procedure, all 80 % for training and the test clips as validation data (schedule, stopping,
  restored best weights by test loss; the stopping replayed on the fit's 30 epochs, see `fit_report`);
- `best_epoch` (from the same fits as `report`): the best test accuracy of any of the 30 epochs, what picking the
  checkpoint by test accuracy would give at most.

Each seed is one stratified random 80/20 split (`ser_nb.splits.random_split`, seed 42 is the kept run's split) and the
same seed for the network's initialisation. Accuracy is plain accuracy over the 288 test clips (the report's number);
UA is recorded for the honest fits. Results are appended to `--out` (JSON; finished (spec, scaling, seed, procedure) entries are skipped
on a rerun), and a table is printed. `PLAN` is every configuration run (about 45 minutes on 2 busy CPU cores):

    python benchmarks/report002_procedure.py --data-root DATA
"""
import argparse, dataclasses, json, os, sys, time
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
from pathlib import Path
import numpy as np

PUBLISHED = 0.6389
SPECS = ('pooled160', 'pooled160_48k')
SCALINGS = ('standard', 'none')
PLAN = [('pooled160', 'standard', ('honest', 'report'), None), ('pooled160_48k', 'standard', ('honest', 'report'), 1),
        ('pooled160', 'none', ('report',), 3), ('pooled160_48k', 'none', ('report',), 3)]   # last: how many of the seeds (None: all)


def spec_for(name: str):
    "The recipe's feature spec, or the same at the report's logged 48 kHz."
    from ser_nb.features import get_spec
    sp = get_spec('pooled160')
    if name == 'pooled160': return sp
    if name == 'pooled160_48k': return dataclasses.replace(sp, name=name, preprocess=dataclasses.replace(sp.preprocess, sr=48000))
    raise ValueError(f'unknown spec {name!r}; choose from {SPECS}')


def scores(y, pred) -> dict:
    from ser_nb.eval import ua
    return dict(acc=float(np.mean(y == pred)), ua=ua(y, pred))


def fit_honest(recipe, data, folds, seed: int) -> dict:
    "ser_nb's own training on the fold (validation carved from the training clips)."
    from ser_nb.train import train, fit_input
    res = train(recipe, data, 0, folds, seed=seed, verbose=0)
    clips = res.clip_predictions()
    lab = {l: i for i, l in enumerate(data.labels)}
    y, pred = clips.label.map(lab).to_numpy(), clips.pred.map(lab).to_numpy()
    te = set(res.test_items.example); tr = np.setdiff1d(np.arange(len(data.X)), sorted(te))
    sc = res.info['scaler']
    tr_pred = res.model.predict(fit_input(sc.transform(data.X[tr]), res.model), batch_size=256, verbose=0).argmax(1)
    h = res.history
    return dict(scores(y, pred), train_acc=float(np.mean(data.y[tr] == tr_pred)), epochs=len(h['loss']), n_train=res.n_train,
                n_val=res.n_val, best_epoch=int(np.argmin(h['val_loss'])) + 1, seconds=round(res.seconds, 1))


def early_stop(val_loss: list[float], patience: int = 10) -> tuple[int, int]:
    "Keras' `EarlyStopping(monitor='val_loss', patience, restore_best_weights=True)` on a loss curve: (epochs run, restored epoch), 0-based."
    best, bi, wait = np.inf, 0, 0
    for e, v in enumerate(val_loss):
        wait += 1
        if v < best: best, bi, wait = v, e, 0
        elif wait >= patience and e > 0: return e + 1, bi
    return len(val_loss), bi


def fit_report(recipe, data, folds, seed: int, scaling: str = 'standard') -> dict:
    """The report's procedure: train on all training clips, validate (LR schedule, stopping, restored weights) on the test clips.

    The network is fitted for all 30 epochs with the LR schedule on the test loss; the report's early stopping only ends
    that same trajectory sooner, so `early_stop` replays it on the recorded test losses. The test accuracy of the restored
    epoch is the report's number; the best test accuracy of any of the 30 epochs is `best_epoch`."""
    import keras
    from ser_nb.models import build_model, compile_model, set_seed
    from ser_nb.train import split_examples, fit_scaler, fit_input, model_input_shape
    s, t0 = recipe.settings, time.time()
    tr, va, te = split_examples(data, folds, 0, val_fraction=0, seed=seed)
    assert len(va) == 0
    set_seed(seed)
    scale = fit_scaler(data.X[tr]).transform if scaling == 'standard' else (lambda X: np.asarray(X, np.float32))
    y, k = data.y, len(data.labels)
    model = compile_model(build_model(s.model, model_input_shape(s.model, data.X.shape[1:]), k),
                          s.optimizer, s.learning_rate, s.loss, s.loss_kw)
    Xtr, Xte = (fit_input(scale(data.X[i]), model) for i in (tr, te))
    train_curve = []   # training accuracy with the epoch's weights in inference mode (the report's "Train Accuracy")

    class TrainAccuracy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            train_curve.append(float(np.mean(self.model.predict(Xtr, batch_size=256, verbose=0).argmax(1) == y[tr])))

    cbs = [keras.callbacks.ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience=5, min_lr=1e-6), TrainAccuracy()]
    h = model.fit(Xtr, keras.utils.to_categorical(y[tr], k), validation_data=(Xte, keras.utils.to_categorical(y[te], k)),
                  epochs=s.epochs, batch_size=s.batch_size, shuffle=True, verbose=0, callbacks=cbs).history
    test_curve = [float(v) for v in h['val_accuracy']]
    pred = model.predict(Xte, batch_size=256, verbose=0).argmax(1)
    assert abs(np.mean(pred == y[te]) - test_curve[-1]) < 1e-6    # val_accuracy is the test accuracy of the epoch's weights
    n_run, best = early_stop(h['val_loss'])
    return dict(acc=test_curve[best], train_acc=train_curve[best], epochs=n_run, n_train=len(tr), n_val=len(te),
                best_epoch=best + 1, best_test_epoch=int(np.argmax(test_curve)) + 1, seconds=round(time.time() - t0, 1),
                test_acc_per_epoch=[round(v, 4) for v in test_curve], train_acc_per_epoch=[round(v, 4) for v in train_curve],
                test_loss_per_epoch=[round(float(v), 5) for v in h['val_loss']])


def summarise(rows: list[dict]) -> list[dict]:
    "Mean ± sd and max of test accuracy per (spec, scaling, procedure); `best_epoch` from the `report` fits."
    table = []
    for spec, scaling, procs, _ in PLAN:
        for proc in procs + (('best_epoch',) if 'report' in procs else ()):
            src = 'report' if proc == 'best_epoch' else proc
            rs = [r for r in rows if (r['spec'], r['scaling'], r['procedure']) == (spec, scaling, src)]
            if not rs: continue
            acc = np.array([max(r['test_acc_per_epoch']) if proc == 'best_epoch' else r['acc'] for r in rs])
            table.append(dict(spec=spec, scaling=scaling, procedure=proc, n=len(rs), seeds=[r['seed'] for r in rs],
                              acc=[round(float(a), 4) for a in acc], mean=float(acc.mean()),
                              sd=float(acc.std(ddof=1)) if len(acc) > 1 else 0.0, max=float(acc.max()),
                              reaches_published=bool(acc.max() >= PUBLISHED - 0.02),
                              train_acc_mean=None if proc == 'best_epoch' else float(np.mean([r['train_acc'] for r in rs])),
                              epochs_mean=None if proc == 'best_epoch' else float(np.mean([r['epochs'] for r in rs]))))
    return table


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data-root', default=os.environ.get('SER_NB_DATA'))
    p.add_argument('--seeds', type=int, nargs='+', default=[42, 43, 44, 45, 46])
    p.add_argument('--only', type=int, nargs='*', help='indices into PLAN (default: all; none: only merge and summarise)')
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--out', default='benchmarks/report002_procedure.json')
    p.add_argument('--merge', nargs='+', default=[], help="other outputs of this script whose fits join --out's")
    a = p.parse_args(argv)
    import tensorflow as tf
    tf.get_logger().setLevel('ERROR')
    from ser_nb.recipes import get_recipe
    from ser_nb.train import recipe_metadata, load_examples
    from ser_nb.splits import make_folds
    out = Path(a.out)
    doc = json.loads(out.read_text()) if out.exists() else dict(runs=[])
    key = lambda r: (r['spec'], r['scaling'], r['seed'], r['procedure'])
    for f in a.merge: doc['runs'] += [r for r in json.loads(Path(f).read_text())['runs'] if key(r) not in set(map(key, doc['runs']))]
    doc.update(command='python benchmarks/report002_procedure.py --data-root DATA', recipe='pooled_cnn_lstm', published=PUBLISHED,
               seeds=a.seeds, plan=[list(x) for x in PLAN], machine=f'{os.uname().machine}, {os.cpu_count()} cores, CPU',
               metric='accuracy over the 288 test clips of a stratified random 80/20 split (seed = split and initialisation)')
    base = get_recipe('pooled_cnn_lstm')
    meta = recipe_metadata(base, a.data_root)
    for i, (spec, scaling, procs, n_seeds) in enumerate(PLAN):
        if a.only is not None and i not in a.only: continue
        recipe = base.replace(spec=spec_for(spec))
        data = load_examples(recipe, meta, jobs=a.jobs, progress=False)
        for seed in a.seeds[:n_seeds]:
            folds = make_folds(data.clips, 'random', seed=seed)
            for proc in procs:
                if (spec, scaling, seed, proc) in set(map(key, doc['runs'])): continue
                fit = fit_honest(recipe, data, folds, seed) if proc == 'honest' else fit_report(recipe, data, folds, seed, scaling)
                r = dict(spec=spec, scaling=scaling, seed=seed, procedure=proc, **fit)
                print(json.dumps({k: v for k, v in r.items() if k != 'test_acc_per_epoch'}), flush=True)
                doc['runs'].append(r)
                doc['summary'] = summarise(doc['runs'])
                out.write_text(json.dumps(doc, indent=1) + '\n')
    doc['runs'].sort(key=lambda r: ([p[:2] for p in PLAN].index((r['spec'], r['scaling'])), r['seed'], r['procedure']))
    doc['summary'] = summarise(doc['runs']); out.write_text(json.dumps(doc, indent=1) + '\n')
    print(f"\n{'spec':14} {'scaling':9} {'procedure':11} {'n':>2} {'acc mean ± sd':>15} {'max':>6}  reaches {100*PUBLISHED:.1f}?")
    for t in doc['summary']:
        print(f"{t['spec']:14} {t['scaling']:9} {t['procedure']:11} {t['n']:>2} {100*t['mean']:8.1f} ± {100*t['sd']:4.1f} "
              f"{100*t['max']:6.1f}  {'yes' if t['reaches_published'] else 'no'}")


if __name__ == '__main__': main()
