# Two commands do everything on a fresh machine:
#   make book   install what is missing from Debian (make deps), set up .venv
#               and build the HTML book (warnings are errors)
#   make test   the same, then every test: ruff, the unit tests (and the
#               comparisons with PyTorch when .torchvenv exists), nbval, then
#               the book built and checked in a real browser
# See README.md for the rest.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp is newer than requirements.txt and pyproject.toml once they are
# installed: editing either re-runs pip, and a missing .venv is created.
STAMP  := $(VENV)/.installed
PORT   ?= 8000

# The JavaScript the book serves itself (MathJax, RequireJS, the widget
# manager), so that it reads with no internet. npm installs the pinned
# versions of chapters/_vendor/package-lock.json once (its stamp is newer than
# the manifest afterwards); the files the pages load are then copied into
# _build/offline, which _config.yml publishes under _static/ (html_static_path).
# Not a folder named _static: Jupyter Book would inject every .js in it into
# every page.
VENDOR        := chapters/_vendor
NPM_STAMP     := $(VENDOR)/node_modules/.installed
OFFLINE       := _build/offline
OFFLINE_STAMP := $(OFFLINE)/.copied

# What the book and its tests need from Debian. Each NEED_x is a shell test
# that adds a package to $missing when what it provides is absent; APT_MISSING
# then installs $missing with apt-get, saying so, when run as root (as on CI),
# and otherwise names the packages and stops. `make deps` checks them all, and
# every target that needs one checks it again, so that `make unit` or `make
# browser` alone also works on a fresh machine:
#   venv      python3-venv: Debian's Python cannot create a venv without it
#             (ensurepip); checked only while there is no .venv
#   npm       npm, which installs the book's pinned JavaScript (chapters/_vendor)
#   chromium  Debian's Chromium, which the browser tests drive (/usr/bin/chromium)
#   bwrap     bubblewrap, the sandbox each graded notebook runs in (make grade,
#             and the grading tests of make unit)
NEED_venv      = test -x $(BIN)/python || $(NEED_ensurepip)
NEED_ensurepip = $(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"
NEED_npm       = command -v npm >/dev/null 2>&1 || missing="$$missing npm"
NEED_chromium  = test -x /usr/bin/chromium || missing="$$missing chromium"
NEED_bwrap     = command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"
APT_MISSING    = if [ -n "$$missing" ]; then \
	if [ "$$(id -u)" -eq 0 ]; then \
		echo "Installing from Debian with apt-get:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "Missing Debian packages:$$missing"; \
		echo "Install them as root (apt-get install$$missing), or run make as root."; \
		exit 1; \
	fi; \
fi
# What `make deps` checks: everything; `make book`, which needs no browser,
# narrows it to its own needs (a target-specific value, below).
DEPS := venv npm chromium bwrap

# The comparisons with PyTorch (tests/torch) and the benchmark's PyTorch column
# run in a side environment, .torchvenv, never in .venv: PyTorch is large and
# nothing else needs it. `make torchvenv` creates it; `make test` runs
# tests/torch when it exists and says it skipped them otherwise (CI does not
# create it). torch==2.13.0 is a CPU build (a newer or unpinned torch is a CUDA
# build of several GB); numpy, pytest, hypothesis and autograd as pinned in
# requirements.txt (tests/conftest.py uses the last two when they are there).
TORCH_VENV   := .torchvenv
TORCH_STAMP  := $(TORCH_VENV)/.installed
TORCH_PYTEST := PYTHONPATH=. $(TORCH_VENV)/bin/python -m pytest tests/torch -q -p no:cacheprovider
TORCH_REQUIREMENTS = torch==2.13.0 threadpoolctl==3.8.0 \
	$(shell grep -E '^(numpy|pytest|hypothesis|autograd)==' requirements.txt)

# The Debian packages `make pdf` needs (with their dependencies about 110 MB
# to download, 360 MB installed): xelatex, for the Unicode in the notebooks;
# latexmk to drive it; the LaTeX packages Sphinx and Jupyter Book load
# (latex-extra) and the fonts they use (fonts-recommended: rsfs, Zapf
# Dingbats); FreeSerif, FreeSans and FreeMono, Sphinx's fonts for xelatex
# (fonts-freefont-otf). Not texlive-fonts-extra (1.4 GB installed) for the one
# file of it that Jupyter Book's LaTeX class loads: see chapters/_latex/bbm.sty.
TEX_PACKAGES := texlive-xetex latexmk texlive-latex-extra texlive-fonts-recommended \
	fonts-freefont-otf

.PHONY: book test unit nbval browser pdf lab serve clean venv offline-assets homework grade notebooks
.PHONY: deps lint torchvenv torch-tests

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@missing=; $(NEED_venv); $(APT_MISSING)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

$(NPM_STAMP): $(VENDOR)/package.json $(VENDOR)/package-lock.json
	@missing=; $(NEED_npm); $(APT_MISSING)
	cd $(VENDOR) && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error
	@touch $(NPM_STAMP)

# The widget manager is embed-amd.js (self-contained) plus the fonts its CSS
# refers to; its other bundles and the source maps are left out.
$(OFFLINE_STAMP): $(NPM_STAMP) $(VENDOR)/widgets-offline.js $(VENDOR)/book.css $(VENDOR)/book.js
	rm -rf $(OFFLINE)
	mkdir -p $(OFFLINE)/html-manager $(OFFLINE)/requirejs
	cp -R $(VENDOR)/node_modules/mathjax/es5 $(OFFLINE)/mathjax
	cp $(VENDOR)/node_modules/requirejs/require.js $(OFFLINE)/requirejs/
	find $(VENDOR)/node_modules/@jupyter-widgets/html-manager/dist -maxdepth 1 -type f \
		! -name '*.map' ! -name '*embed.js' ! -name 'libembed-amd.js' \
		-exec cp {} $(OFFLINE)/html-manager/ \;
	cp $(VENDOR)/widgets-offline.js $(VENDOR)/book.css $(VENDOR)/book.js $(OFFLINE)/
	@# Sphinx copies static files only when some page is rewritten: drop the
	@# old HTML so that new assets reach _build/html/_static.
	rm -rf _build/html
	@touch $(OFFLINE_STAMP)

offline-assets: $(OFFLINE_STAMP)

book: DEPS := venv npm
book: deps $(STAMP) $(OFFLINE_STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is built. Open: file://$(CURDIR)/_build/html/index.html"
	@echo "(or run 'make serve' and visit http://127.0.0.1:$(PORT)/)"

# deps first (it installs, or names, what is missing before minutes of tests),
# then the fast checks. The browser tests check the book as built, so the book
# is built in between.
test: deps lint unit torch-tests nbval book browser

# Installs with apt-get (as root) whatever of $(DEPS) is missing: see NEED_x.
deps:
	@missing=; $(foreach d,$(DEPS),$(NEED_$(d));) $(APT_MISSING)

# ruff, configured in pyproject.toml ([tool.ruff]); no .ruff_cache in the book's folder.
lint: $(STAMP)
	$(BIN)/ruff check --no-cache bptt tests chapters/_ext

unit: $(STAMP)
	@missing=; $(NEED_bwrap); $(APT_MISSING)
	$(BIN)/pytest tests --ignore=tests/browser --ignore=tests/torch

# The side environment for PyTorch (see TORCH_VENV above). Not part of `make
# test`: run it once, by hand.
torchvenv: $(TORCH_STAMP)

$(TORCH_STAMP): requirements.txt
	@missing=; test -x $(TORCH_VENV)/bin/python || $(NEED_ensurepip); $(APT_MISSING)
	@test -x $(TORCH_VENV)/bin/python || $(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TORCH_VENV)/bin/python -m pip install --quiet $(TORCH_REQUIREMENTS)
	@touch $(TORCH_STAMP)

# The comparisons with PyTorch, in .torchvenv with the bptt beside this file.
torch-tests:
	@if test -x $(TORCH_VENV)/bin/python; then \
		echo "$(TORCH_PYTEST)"; $(TORCH_PYTEST); \
	else \
		echo "Skipped tests/torch (the comparisons with PyTorch): no $(TORCH_VENV); 'make torchvenv' creates it."; \
	fi

# --nbval-current-env runs the notebooks with this venv's kernel; the sanitizer
# hides what legitimately changes between runs (animation ids, base64 frames).
# The homework runs with its solutions (chapters/homework/hw*.ipynb); the
# student versions the book shows are stubs that raise by design: skipped.
nbval: $(STAMP)
	$(BIN)/pytest --nbval chapters --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg \
		--ignore=chapters/homework/student

# Re-run chapter notebooks in place after editing them (NB=path to choose;
# default every chapter): code cells, widget state, and the {eval} results of
# the Markdown cells, which JupyterLab and the book show (chapters/_ext/).
NB ?= $(wildcard chapters/[0-9][0-9]-*.ipynb)
notebooks: $(STAMP)
	$(BIN)/python chapters/_ext/run_notebook.py $(NB)

# The student versions of the assignments (solutions stripped) and one zip per
# assignment, into _build/homework/; nothing is written anywhere else.
homework: $(STAMP)
	$(BIN)/python -m bptt.course release --source chapters/homework --out _build/homework

# The student versions the book shows, with a note under the title, into
# chapters/homework/student/ (committed; a test fails when they are stale).
.PHONY: homework-pages
homework-pages: $(STAMP)
	$(BIN)/python -m bptt.course pages --source chapters/homework \
		--out chapters/homework/student

# make grade SUBMISSIONS=folder (one folder per student, holding their
# notebooks): runs each in a fresh kernel, in its own bubblewrap sandbox, with
# time limits, and writes a row per student and question to
# _build/grades/grades.csv.
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "Usage: make grade SUBMISSIONS=folder"; exit 1; }
	@missing=; $(NEED_bwrap); $(APT_MISSING)
	$(BIN)/python -m bptt.course grade "$(SUBMISSIONS)" --source chapters/homework \
		--out _build/grades/grades.csv

# Every page of _build/html in Debian's Chromium (headless, no other host
# reachable). Run `make book` first; `make test` does.
browser: $(STAMP)
	@test -d _build/html || { echo "Run 'make book' first."; exit 1; }
	@missing=; $(NEED_chromium); $(APT_MISSING)
	$(BIN)/pytest tests/browser

# The PDF, through XeLaTeX, into _build/latex/bptt-book.pdf. First installs
# whichever of TEX_PACKAGES is missing (as root, as on CI). Widgets and
# animations print as their still image. html_static_path names $(OFFLINE):
# Sphinx warns when it is missing, for the LaTeX builder too, and -W makes that
# an error, so an empty one stands in before the first `make book`.
pdf: $(STAMP)
	@missing=; for p in $(TEX_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' \
		|| missing="$$missing $$p"; done; $(APT_MISSING)
	@mkdir -p $(OFFLINE)
	$(BIN)/jupyter-book build . --builder pdflatex -W -n --keep-going
	@echo "The PDF is built: $(CURDIR)/_build/latex/bptt-book.pdf"

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

serve:
	@test -d _build/html || { echo "Run 'make book' first."; exit 1; }
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
