"""`wechat-training`: the command line. Only wires arguments to library calls.

Heavy imports (pydantic, nbgrader, pandas, voila) happen inside the commands
so that `--help` answers at once.

One module per command group: `content` (check, catalog), `records`, `portal`
(serve), `grading` (build, grade, roster), `hub`, `reminders` (remind), `certificates`,
`authoring` (new, preview, bank, diff, analytics); `options` holds the options
and helpers they share.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Compliance training on company WeChat / WeCom rules.

    Trainers author rules and questions as YAML (see docs/content-format.md),
    check them, and build learner notebooks and nbgrader assignments from them.
    """


# Each module registers its commands on `main` (imported last: they import `main`).
from . import authoring, certificates, content, grading, hub, portal, records, reminders  # noqa: E402, F401
