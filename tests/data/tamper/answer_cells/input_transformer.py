# Attack: an IPython input transformer that turns every later cell, the hidden
# tests included, into `pass`.
import os

open(os.environ.get("WT_TAMPER_MARKER", os.devnull), "a").write("input_transformer ran\n")
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\n"])  # noqa: F821
answer = "z"
