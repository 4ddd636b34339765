"""Records: what HR reads and sends on.

Owns the roster import, the record book (gradebook + catalogue + campaign put
together), the pure-pandas roll-up into one training record per employee and
module, the exports (CSV, XLSX with our own writer, xAPI), the `nbgrader
export` plugin, per-rule analytics and the HR dashboard. The top library
layer: may import `content`, `submissions` and `assessment`; nothing imports it
but the CLI and notebooks.
"""
