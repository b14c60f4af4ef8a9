"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does with Quarto, in plain Python, offline).
Usage: python .ci/readme.py [--check]   (--check: exit 1 if README.md is out of date)"""
import json, sys
from pathlib import Path
root = Path(__file__).resolve().parents[1]
nb = json.loads((root/'nbs'/'index.ipynb').read_text())
parts = []
for c in nb['cells']:
    src = ''.join(c['source']).strip()
    if c['cell_type'] == 'markdown' and src: parts.append(src)
text = '\n\n'.join(parts) + '\n'
text = text.replace('](data.html)', '](https://ser-nb.github.io/ser_nb/data.html)')
readme = root/'README.md'
if '--check' in sys.argv:
    if not readme.exists() or readme.read_text() != text: sys.exit('README.md is out of date: run python .ci/readme.py')
else: readme.write_text(text)
