"""Chapter 08's speech rule before issue 19 and now, side by side: how often each calls real speech 'no speech'
(false rejection) and non-speech 'speech' (false acceptance), and what each costs per second of audio.

    python benchmarks/speech_rule.py --data-root DATA --clips 300 --seed 0

Speech: `--clips` clips per corpus (RAVDESS, CREMA-D, SAVEE, nEMO, ASED), drawn with `--seed`, each judged at its
own level and scaled to -45 dBFS RMS; a clip is rejected when `has_speech` says no.
Non-speech: digital silence; 16-bit dither; white, pink and brown noise at -90 to -10 dBFS RMS; mains hum (50 and
60 Hz, harmonics up to 2 kHz in four mixes) at -70 to -20 dBFS RMS; and the first 0.3 s and last 0.5 s of each
RAVDESS clip drawn (the silence before and after the actor speaks).
Cost: both rules on every speech clip as read (file rate: resampling to 16 kHz included) and already at 16 kHz,
in ms per second of audio, timed alternately in one process.
For each RAVDESS lead or tail the new rule calls speech, it notes what it heard there: the loudest speech-like
frame (dBFS, and dB below the clip's loudest frame) and the strongest voicing.
The table goes to stdout and to benchmarks/speech_rule.json, which chapter 08 draws its table from.
"""
import argparse, glob, json, sys, time
from pathlib import Path

import numpy as np

from ser_nb.data import data_root, load_metadata
from ser_nb.preprocess import load_audio_sr, resample
from ser_nb.predict import (FRAME_HOP_S, FRAME_S, MIN_SPEECH_S, SPEECH_SR, frames, periodicity, speech_frames,
                            voicing)

CORPORA = ('ravdess', 'crema-d', 'savee', 'nemo', 'ased')
GLOBS = {'nemo': 'nemo/samples/*.wav', 'ased': 'ased/0*/*.wav'}   # until their loaders are in ser_nb.data
SR = SPEECH_SR


def old_speech_frames(y: np.ndarray, sr: int) -> np.ndarray:
    "The rule before issue 19 (ser_nb 214368f): frame RMS above -85 dBFS and voicing of the unfiltered first difference >= 0.4."
    y = resample(np.asarray(y, dtype=np.float32), sr, SR)
    F = frames(y, round(FRAME_S*SR), round(FRAME_HOP_S*SR))
    level = 10*np.log10(np.mean(np.square(F, dtype=np.float64), axis=1) + 1e-30)
    return (level > -85.) & (voicing(periodicity(F, SR, lowpass=np.inf), SR)[0] >= 0.4)


RULES = {'old': old_speech_frames, 'new': speech_frames}


def is_speech(rule, y: np.ndarray, sr: int) -> bool:
    "`has_speech` with the frames of `rule`."
    return bool(len(y)) and float(rule(y, sr).sum())*FRAME_HOP_S >= MIN_SPEECH_S


def at_dbfs(y: np.ndarray, db: float) -> np.ndarray:
    "`y` scaled to an RMS of `db` dBFS."
    return (y*10**(db/20)/max(np.sqrt(np.mean(np.square(y, dtype=np.float64))), 1e-30)).astype(np.float32)


def corpus_paths(name: str, root: Path) -> tuple[list[str], str]:
    "The corpus's audio files (from `load_metadata`, else by glob) and how they were listed."
    try: return sorted(load_metadata(name, root).path), 'load_metadata'
    except Exception:
        if name not in GLOBS: return [], 'missing'
        return sorted(glob.glob(str(root/GLOBS[name]))), 'glob ' + GLOBS[name]


def coloured(n: int, rng, alpha: float) -> np.ndarray:
    "Noise with a 1/f^alpha power spectrum: 0 white, 1 pink, 2 brown."
    X = np.fft.rfft(rng.standard_normal(n)); f = np.maximum(np.fft.rfftfreq(n), 1/n)
    return np.fft.irfft(X/f**(alpha/2), n)


HUM_MIXES = {'1/k': lambda k: 1/k, 'odd': lambda k: 1/k if k % 2 else 0.1/k,
             'even': lambda k: 0.3/k if k % 2 else 1/k, 'random': None}


def hum(n: int, f0: float, mix: str, rng) -> np.ndarray:
    "Mains hum at `f0` Hz: harmonics up to 2 kHz, amplitudes by `mix`, random phases, plus noise 60 dB down."
    t, ks = np.arange(n)/SR, np.arange(1, int(2000/f0) + 1)
    a = np.exp(rng.normal(0, 1, len(ks)))/ks if HUM_MIXES[mix] is None else np.array([HUM_MIXES[mix](k) for k in ks])
    y = sum(ak*np.sin(2*np.pi*k*f0*t + rng.uniform(0, 2*np.pi)) for k, ak in zip(ks, a))
    return y + 1e-3*np.sqrt(np.mean(y**2))*rng.standard_normal(n)


def synthetic(seed: int, seconds: float = 3.) -> dict[str, list[np.ndarray]]:
    "The synthetic non-speech sets (16 kHz), three draws of each noise."
    rng, n = np.random.default_rng(seed), int(seconds*SR)
    out = {'digital silence': [np.zeros(n, np.float32)],
           '16-bit dither': [(np.round(rng.standard_normal(n)*0.7)/32768).astype(np.float32) for _ in range(3)]}
    for name, alpha in [('white', 0.), ('pink', 1.), ('brown', 2.)]:
        out[f'{name} noise, -90 to -10 dBFS'] = [at_dbfs(coloured(n, rng, alpha), db) for db in (-90, -70, -50, -30, -10) for _ in range(3)]
    out['mains hum 50/60 Hz, -70 to -20 dBFS'] = [at_dbfs(hum(n, f0, mix, rng), db) for f0 in (50, 60) for mix in HUM_MIXES
                                                   for db in (-70, -40, -20)]
    return out


def timed(rule, y, sr, clock: dict, key: str) -> bool:
    "`is_speech` of `rule`, its time added to `clock[key]`."
    t = time.perf_counter(); r = is_speech(rule, y, sr); clock[key] += time.perf_counter() - t
    return r


def frame_db(y16: np.ndarray) -> np.ndarray:
    "RMS level (dBFS) of each of the rule's frames of `y16` (16 kHz)."
    F = frames(y16, round(FRAME_S*SR), round(FRAME_HOP_S*SR))
    return 10*np.log10(np.mean(np.square(F, dtype=np.float64), axis=1) + 1e-30)


def why_speech(clip: str, part: str, y16: np.ndarray, clip_db: float) -> dict:
    "What the new rule heard in a silent part it calls speech: its speech-like frames' loudest level and strongest voicing."
    sel = speech_frames(y16, SR)
    v = voicing(periodicity(frames(y16, round(FRAME_S*SR), round(FRAME_HOP_S*SR)), SR), SR)[0]
    top = float(frame_db(y16)[sel].max())
    return dict(clip=clip, part=part, speech_s=round(float(sel.sum())*FRAME_HOP_S, 2), level_dbfs=round(top, 1),
                below_clip_db=round(clip_db - top, 1), voicing_max=round(float(v[sel].max()), 2),
                old=is_speech(old_speech_frames, y16, SR))


def run(root: Path, clips: int, seed: int, names=CORPORA) -> dict:
    "The benchmark's JSON: corpora, rows (set, group, n, old, new), the RAVDESS silences called speech, and timing."
    rows, corpora, rng = [], {}, np.random.default_rng(seed)
    clock = dict.fromkeys(['old', 'new', 'old_16k', 'new_16k'], 0.); audio_s, parts = 0., {}
    for name in names:
        paths, how = corpus_paths(name, root)
        if not paths: print(f'{name}: not under {root}, skipped', file=sys.stderr); continue
        pick = [paths[i] for i in sorted(rng.choice(len(paths), min(clips, len(paths)), replace=False))]
        corpora[name] = dict(clips=len(pick), of=len(paths), listed_by=how)
        miss = {(k, lvl): 0 for k in RULES for lvl in ('own', '-45')}
        for i, p in enumerate(pick):
            y, sr = load_audio_sr(p, None); y16 = resample(y, sr, SR); audio_s += len(y)/sr
            for k in (('old', 'new') if i % 2 else ('new', 'old')):   # alternate, so that load on the machine hits both alike
                miss[k, 'own'] += not timed(RULES[k], y, sr, clock, k)
                timed(RULES[k], y16, SR, clock, k + '_16k')
                miss[k, '-45'] += not is_speech(RULES[k], at_dbfs(y, -45), sr)
            if name == 'ravdess':
                top = float(frame_db(y16).max())
                parts.setdefault('RAVDESS first 0.3 s', []).append((Path(p).stem, y16[:int(0.3*SR)], top))
                parts.setdefault('RAVDESS last 0.5 s', []).append((Path(p).stem, y16[-int(0.5*SR):], top))
        for lvl, what in (('own', 'own level'), ('-45', 'at -45 dBFS RMS')):
            rows.append(dict(group='speech', set=f'{name}, {what}', n=len(pick), old=miss['old', lvl], new=miss['new', lvl]))
    for s, ys in synthetic(seed).items():
        rows.append(dict(group='non-speech', set=s, n=len(ys), **{k: sum(is_speech(r, y, SR) for y in ys) for k, r in RULES.items()}))
    heard = []
    for s, items in parts.items():
        rows.append(dict(group='non-speech', set=s, n=len(items), **{k: sum(is_speech(r, y, SR) for _, y, _ in items) for k, r in RULES.items()}))
        heard += [why_speech(c, s, y, top) for c, y, top in items if is_speech(speech_frames, y, SR)]
    ms = {k: round(1000*v/audio_s, 3) for k, v in clock.items()}
    return dict(corpora=corpora, rows=rows, silences_heard=heard, timing=dict(audio_s=round(audio_s, 1), ms_per_audio_s=ms))


def table(res: dict) -> str:
    "The rows as a plain-text table."
    out = [f"{'set':<38} {'n':>5} {'old':>13} {'new':>13}"]
    for g, what in (('speech', 'false rejections (no speech)'), ('non-speech', 'false acceptances (speech)')):
        out.append(f'-- {g}: {what}')
        for r in (r for r in res['rows'] if r['group'] == g):
            out.append(f"{r['set']:<38} {r['n']:>5} " + ' '.join(f"{r[k]:>4} ({100*r[k]/r['n']:5.1f}%)" for k in ('old', 'new')))
    ms = res['timing']['ms_per_audio_s']
    for h in res['silences_heard']:
        out.append(f"  new rule hears speech in {h['clip']} {h['part']}: {h['speech_s']} s, up to {h['level_dbfs']} dBFS "
                   f"({h['below_clip_db']} dB below the clip's loudest frame), voicing up to {h['voicing_max']}; old rule: {h['old']}")
    out.append(f"cost, ms per second of audio ({res['timing']['audio_s']} s): file rate old {ms['old']:.2f}, new {ms['new']:.2f}; "
               f"16 kHz old {ms['old_16k']:.2f}, new {ms['new_16k']:.2f}")
    return '\n'.join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--data-root', default=None, help='corpora root (default: $SER_NB_DATA)')
    ap.add_argument('--clips', type=int, default=300, help='clips drawn per corpus')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--corpora', nargs='+', choices=CORPORA, default=list(CORPORA))
    ap.add_argument('--out', default=str(Path(__file__).with_suffix('.json')))
    a = ap.parse_args(argv)
    root, t0 = data_root(a.data_root), time.perf_counter()
    command = 'python benchmarks/speech_rule.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    res = dict(command=command.strip(), seed=a.seed, clips_per_corpus=a.clips) | run(root, a.clips, a.seed, a.corpora)
    res['wall_s'] = round(time.perf_counter() - t0, 1)
    print(command); print(table(res)); print(f"{res['wall_s']} s")
    Path(a.out).write_text(json.dumps(res, indent=1) + '\n')


if __name__ == '__main__':
    main()
