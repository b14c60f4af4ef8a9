"""The built site, checked as a reader sees it: every page of _docs/ opened in headless Chromium (called by .ci/docs).

python .ci/docs_check.py [SITE] [--shots DIR]      SITE defaults to _docs, DIR to _docs_shots

Fails (exit 1) on
  - sidebar     a notebook in nbs/ that nbs/sidebar.yml does not list, or an entry of it with no notebook
  - main        a page without main content (no <main>, or nothing in it but the title block)
  - image       an <img> that does not load (not complete, or naturalWidth 0)
  - resource    a stylesheet, script or image that the browser could not fetch
  - output      a cell output holding a Python traceback, a warning or an error: a saved error output, or text
                such as 'Traceback (most recent call last)', 'SomethingWarning:', 'SomethingError:', a line starting
                'WARNING'/'ERROR', or an absl/TensorFlow log line ('W0000 00:00:...', '2026-01-01 00:00:00.0: E ...')
  - link        a link to a page or file of the site that does not exist (other sites are not fetched)
Keeps a screenshot of each page (the whole page, up to 16000 px tall, 1280 px wide) in DIR, named like the page
(reports/cnn_bilstm.html -> reports__cnn_bilstm.png), for people to look at.

Needs Debian's chromium and chromium-driver and Python's selenium (.ci/docs installs them where missing).
"""
import argparse, functools, http.server, re, sys, threading, time
from pathlib import Path
from urllib.parse import urlsplit, unquote

root = Path(__file__).resolve().parents[1]

OUTPUT_BAD = re.compile(r'Traceback \(most recent call last\)|\b[A-Z]\w*(?:Warning|Error|Exception)\b:'
                        r'|^\s*(?:WARNING|ERROR)\b|^[IWEF]\d{4} \d\d:\d\d:\d\d'
                        r'|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] ', re.M)

# Runs in the page: what the checks need, in one round trip.
PAGE_JS = """
const main = document.querySelector('main');
let body = '';
if (main) { const m = main.cloneNode(true); m.querySelectorAll('header, #title-block-header').forEach(e => e.remove());
            body = m.innerText.trim(); }
return {
  main: !!main, body: body.length, images: main ? main.querySelectorAll('img').length : 0,
  broken_images: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
                   .map(i => (i.getAttribute('src') || '').slice(0, 80)),
  outputs: [...document.querySelectorAll('.cell-output')].map(e => [e.className, e.innerText]),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  failed: performance.getEntriesByType('resource').filter(r => r.responseStatus >= 400 && !r.name.endsWith('/favicon.ico')).map(r => r.name),
};
"""


MAX_HEIGHT = 16000  # px; Chromium draws nothing beyond 16384
HEIGHT_JS = 'return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);'


def sidebar_problems(nbs: Path) -> list[str]:
    "Notebooks that nbs/sidebar.yml does not list, and entries that name no notebook."
    import yaml
    listed = set()
    def walk(x):
        if isinstance(x, str): listed.add(x)
        elif isinstance(x, list): [walk(i) for i in x]
        elif isinstance(x, dict):
            for k in ('contents', 'href', 'file'): walk(x.get(k))
    walk(yaml.safe_load((nbs/'sidebar.yml').read_text())['website']['sidebar']['contents'])
    have = {p.relative_to(nbs).as_posix() for p in nbs.glob('**/*.ipynb')
            if not any(s.startswith(('.', '_')) for s in p.relative_to(nbs).parts)}
    return ([f'sidebar: {n} is not in nbs/sidebar.yml (add it to its group)' for n in sorted(have - listed)] +
            [f'sidebar: nbs/sidebar.yml lists {n}, which does not exist' for n in sorted(listed - have)
             if n.endswith(('.ipynb', '.qmd'))])


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    "The site on 127.0.0.1, on a free port, in a background thread."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f'http://127.0.0.1:{httpd.server_address[1]}/'


def browser():
    "Headless Chromium through chromedriver."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
              '--disable-dev-shm-usage', '--hide-scrollbars', '--window-size=1280,900'):
        o.add_argument(a)
    d = webdriver.Chrome(options=o, service=Service('/usr/bin/chromedriver'))
    d.set_page_load_timeout(60)
    return d


def page_problems(info: dict, page: str, site: Path, base: str) -> list[str]:
    "What is wrong with one page, from what PAGE_JS found there."
    out = []
    if not info['main']: out.append('main: the page has no <main> element')
    elif info['body'] == 0 and info['images'] == 0: out.append('main: nothing in <main> but the title')
    out += [f'image: does not load: {s}' for s in info['broken_images']]
    out += [f'resource: could not be fetched: {u}' for u in info['failed']]
    for cls, text in info['outputs']:
        m = OUTPUT_BAD.search(text)
        if 'cell-output-error' in cls or m:
            at = text[max(0, m.start() - 60):m.end() + 60] if m else text[:120]
            out.append(f"output: {'an error output' if 'cell-output-error' in cls else 'a cell output says'}: "
                       f"{' '.join(at.split())!r}")
    for href in sorted(set(info['links'])):
        if not href.startswith(base): continue
        path = unquote(urlsplit(href).path)[len(urlsplit(base).path):]
        target = site/path
        if path == '' or target.is_dir(): target = target/'index.html'
        if not target.exists(): out.append(f'link: broken: {path}')
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('site', nargs='?', default=str(root/'_docs'))
    ap.add_argument('--shots', default=str(root/'_docs_shots'))
    a = ap.parse_args()
    site, shots = Path(a.site).resolve(), Path(a.shots)
    t0 = time.time()
    problems = {'nbs/sidebar.yml': sidebar_problems(root/'nbs')}
    pages = sorted(p.relative_to(site).as_posix() for p in site.glob('**/*.html') if 'site_libs' not in p.parts)
    if not pages: sys.exit(f'FAIL: no pages in {site}')
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob('*.png'): old.unlink()
    httpd, base = serve(site)
    d = browser()
    try:
        for page in pages:
            d.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', dict(width=1280, height=900, deviceScaleFactor=1, mobile=False))
            d.get(base + page)
            info = d.execute_script(PAGE_JS)
            problems[page] = page_problems(info, page, site, base)
            h = 900
            for _ in range(4):  # the page reflows when the viewport grows: measure again until the height holds
                want = min(max(d.execute_script(HEIGHT_JS), 900), MAX_HEIGHT)
                if want == h: break
                h = want
                d.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                                  dict(width=1280, height=h, deviceScaleFactor=1, mobile=False))
            d.save_screenshot(str(shots/(page[:-len('.html')].replace('/', '__') + '.png')))
            n_out = len(info['outputs'])
            print(f"  {'FAIL' if problems[page] else 'ok  '} {page}: {info['body']} characters, {info['images']} image(s), "
                  f"{n_out} output(s)")
    finally:
        d.quit(); httpd.shutdown()
    bad = {k: v for k, v in problems.items() if v}
    on = {}  # one line per problem, with the pages it is on (a chapter missing from the site is on every sidebar)
    for page, ps in bad.items():
        for p in ps: on.setdefault(p, []).append(page)
    for p, pages_ in on.items():
        print(f"FAIL: {p}  <- {len(pages_)} pages" if len(pages_) > 3 else f"FAIL: {p}  <- {', '.join(pages_)}")
    print(f'browser check: {len(pages)} page(s), {sum(map(len, bad.values()))} problem(s), screenshots in {shots}, '
          f'{time.time() - t0:.1f} s')
    sys.exit(1 if bad else 0)


if __name__ == '__main__': main()
