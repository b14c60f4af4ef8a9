"""Helpers for .ci/docs (the offline docs build: nbdev_proc_nbs + smalldocs instead of Quarto).

python .ci/docs_stage.py proc-each        process, one by one, every notebook whose _proc copy is missing or older;
                                          print the name of each one that nbdev cannot process (nbdev_proc_nbs stops
                                          at the first failure and does not name the notebook)
python .ci/docs_stage.py lint             list the cells that nbdev runs while building the docs although they are not
                                          export or show_doc cells: cells mixing imports with other code. Their saved
                                          outputs (charts, real-data results) are replaced by what the build prints
python .ci/docs_stage.py links DIR        check the links into our own site that nbdev writes as absolute URLs
                                          (doc_host + doc_baseurl, from backticked names): the page must exist in DIR
                                          (printed as FAIL) and so should the anchor (printed as note)
python .ci/docs_stage.py stage DEST       copy _proc/ to DEST as Quarto would see it: each notebook renamed to its
                                          front matter's `output-file` (nbdev sets 00_data.ipynb -> data.html;
                                          smalldocs ignores output-file), links and sidebar.yml rewritten to match
"""
import json, re, shutil, sys, traceback, warnings
from pathlib import Path

root = Path(__file__).resolve().parents[1]


def proc_each() -> None:
    from nbdev.config import get_config
    from nbdev.serve import _proc_file
    import nbdev.serve_drv
    cfg = get_config()
    cache, path = cfg.config_path/'_proc', cfg.nbs_path
    for nb in sorted(path.glob('**/*.ipynb')):
        if any(p.startswith(('.', '_')) for p in nb.relative_to(path).parts): continue
        job = _proc_file(nb, cache, path)  # None when the processed copy is up to date
        if not job: continue
        try:
            with warnings.catch_warnings(record=True) as ws:
                warnings.simplefilter('always')
                nbdev.serve_drv.main(job)
        except Exception as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            cause = traceback.format_exception_only(e.__cause__ or e)[-1].strip()
            print(f"  FAIL {nb.relative_to(cfg.config_path)}: {first}\n       {cause}", file=sys.stderr)
            print(nb.relative_to(path))
        mixed = sum('Found cells containing imports' in str(w.message) for w in ws)
        if mixed: print(f"  note {nb.relative_to(cfg.config_path)}: {mixed} cell(s) mix imports with other code", file=sys.stderr)


def lint() -> None:
    import ast
    from execnb.nbio import read_nb
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    cfg = get_config()
    for f in sorted(cfg.nbs_path.glob('*.ipynb')):
        nb = NBProcessor(f, procs=[]).nb  # parses directives as nbdev does
        for i, c in enumerate(nb.cells):
            if c.cell_type != 'code' or not c.source or 'nbdev_export()' in c.source: continue
            if c.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}: continue
            if c.directives_.get('eval:', [''])[0].lower() == 'false': continue
            try: trees = ast.parse(re.sub(r'^\s*[%!].*$', '', c.source, flags=re.M)).body
            except SyntaxError: continue
            walk = [n for t in trees for n in ast.walk(t)]
            if not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in walk): continue
            if not any(isinstance(n, (ast.Expr, ast.Assign)) for n in walk): continue  # nbdev's own test
            if all(isinstance(t, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                   for t in trees): continue  # only defines things: running it is harmless
            line = next((l for l in c.source.splitlines() if l.strip() and not l.startswith('#|')), '')
            outs = ' (its saved outputs are replaced)' if c.get('outputs') else ''
            print(f"  {f.relative_to(cfg.config_path)} cell {i}{outs}: {line[:70]}")


def links(site: Path) -> None:
    from collections import defaultdict
    from nbdev.config import get_config
    cfg = get_config()
    base = (cfg.doc_host + cfg.doc_baseurl).rstrip('/') + '/'
    pages = {f.relative_to(site).as_posix(): f.read_text() for f in site.glob('**/*.html')}
    ids = {k: set(re.findall(r'\bid="([^"]+)"', t)) for k, t in pages.items()}
    pat = re.compile(r'href="' + re.escape(base) + r'([^"#?]*)(?:#([^"]*))?"')
    bad = defaultdict(set)
    for name, text in sorted(pages.items()):
        for target, frag in pat.findall(text):
            target = target or 'index.html'
            if target.endswith('/'): target += 'index.html'
            if target not in pages: bad[('FAIL', target)].add(name)
            elif frag and frag not in ids[target]: bad[('note', f'{target}#{frag}')].add(name)
    for (kind, target), on in sorted(bad.items()):
        if kind == 'FAIL': print(f"FAIL: {', '.join(sorted(on))}: broken link {base}{target}")
        else: print(f"note: {base}{target} (no such anchor) <- {', '.join(sorted(on))}")


FRONT = re.compile(r'^---\n(.*?)\n---\n', re.S)
OUTFILE = re.compile(r'^output-file:\s*(\S+)\s*$', re.M)


def _output_file(nb: dict) -> str | None:
    "The `output-file` that nbdev writes into the raw front-matter cell, if any."
    if not nb.get('cells') or nb['cells'][0]['cell_type'] != 'raw': return None
    m = FRONT.match(''.join(nb['cells'][0]['source']))
    m = m and OUTFILE.search(m.group(1))
    return m.group(1) if m else None


def stage(dest: Path) -> None:
    src = root/'_proc'
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns('_docs'))
    renames = {}  # old relative name -> new relative name
    for f in sorted(dest.glob('**/*.ipynb')):
        nb = json.loads(f.read_text())
        out = _output_file(nb)
        if not out: continue
        c = nb['cells'][0]
        c['source'] = OUTFILE.sub('', ''.join(c['source']), count=1)  # applied here by the rename
        new = f.with_name(Path(out).stem + '.ipynb')
        if new != f:
            if new.exists(): sys.exit(f"docs: {f.name} and {new.name} would both be {out}")
            renames[f.relative_to(dest).as_posix()] = new.relative_to(dest).as_posix()
        f.unlink(); new.write_text(json.dumps(nb))
    if not renames: return
    pat = re.compile(r'(?<![\w.-])(/|\./)?(' + '|'.join(re.escape(o) for o in renames) + r')(?=[#)\s"\']|$)', re.M)
    sub = lambda text: pat.sub(lambda m: (m.group(1) or '') + renames[m.group(2)], text)
    for f in dest.glob('**/*.ipynb'):  # links between chapters written as notebook names, as Quarto resolves them
        nb = json.loads(f.read_text()); changed = False
        for c in nb['cells']:
            if c['cell_type'] != 'markdown': continue
            s = ''.join(c['source']); t = sub(s)
            if t != s: c['source'], changed = t, True
        if changed: f.write_text(json.dumps(nb))
    for y in dest.glob('**/*.yml'): y.write_text(sub(y.read_text()))


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'proc-each': proc_each()
    elif cmd == 'lint': lint()
    elif cmd == 'links' and len(sys.argv) == 3: links(Path(sys.argv[2]))
    elif cmd == 'stage' and len(sys.argv) == 3: stage(Path(sys.argv[2]))
    else: sys.exit(__doc__)
