"""A character language model trained by truncated BPTT: ``python -m bptt.charlm``.

The package's models (:data:`bptt.rnn.RNN`, :data:`bptt.lstm.LSTM`,
:data:`bptt.gru.GRU`) read a text one character at a time and predict the
next; B streams are read side by side, K characters a chunk, the state
carried across chunks and the gradient cut between them. Not imported by
``import bptt``: ``import bptt.charlm`` (or the command line) loads it.

The functions a chapter calls::

    text = read_text("bptt/texts/tinyshakespeare.txt")      # or SHIPPED_TEXT
    lm, history = train_charlm(text, model="lstm", hidden_size=100, seq_len=25,
                               batch_size=32, seconds=60, seed=0)
    save_model("lstm.npz", lm);  lm = load_model("lstm.npz")
    print(sample(lm, 500, temperature=0.8, seed=1, prime="ROMEO:"))
    evaluate_bpc(lm, text[-10000:])                          # bits per character
    lm, more = train_charlm(text, resume=lm, seconds=60)     # continues exactly

One concept a module: :mod:`~bptt.charlm.corpus` (the text, its split and
its streams), :mod:`~bptt.charlm.lm` (what a character model is),
:mod:`~bptt.charlm.training`, :mod:`~bptt.charlm.evaluation` (bits per
character), :mod:`~bptt.charlm.sampling`, :mod:`~bptt.charlm.model_io`
(the ``.npz`` file), :mod:`~bptt.charlm.progress`, :mod:`~bptt.charlm.cli`.
"""
from .corpus import SHIPPED_TEXT, read_text, split_text, stream_layout
from .evaluation import evaluate_bpc
from .lm import MODELS, CharLM, new_charlm
from .model_io import load_model, save_model
from .sampling import sample
from .training import train_charlm

__all__ = ["SHIPPED_TEXT", "read_text", "split_text", "stream_layout", "MODELS", "CharLM",
           "new_charlm", "train_charlm", "evaluate_bpc", "sample", "save_model", "load_model"]
