# Two commands do everything on a fresh machine:
#   make book   set up .venv and build the HTML book (warnings are errors)
#   make test   set up .venv and run every test (unit tests and nbval)
# See README.md for the rest.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp is newer than requirements.txt and pyproject.toml once they are
# installed: editing either re-runs pip, and a missing .venv is created.
STAMP  := $(VENV)/.installed
PORT   ?= 8000

.PHONY: book test unit nbval lab serve clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is built. Open: file://$(CURDIR)/_build/html/index.html"
	@echo "(or run 'make serve' and visit http://127.0.0.1:$(PORT)/)"

test: unit nbval

unit: $(STAMP)
	$(BIN)/pytest tests

# --nbval-current-env runs the notebooks with this venv's kernel; the sanitizer
# hides what legitimately changes between runs (animation ids, base64 frames).
nbval: $(STAMP)
	$(BIN)/pytest --nbval chapters --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

serve:
	@test -d _build/html || { echo "Run 'make book' first."; exit 1; }
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
