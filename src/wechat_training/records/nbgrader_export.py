"""`nbgrader export` writing our training records instead of nbgrader's hand-built CSV.

Registered in the course config (grading/nbgrader_config.py)::

    c.ExportApp.plugin_class = "wechat_training.records.nbgrader_export.RecordsExportPlugin"

then, in the course directory, `nbgrader export --to records.csv` writes the
same file as `wechat-training records export --format csv --out records.csv`
(the format follows the file suffix: .csv, .xlsx, or .json for xAPI; or set
`--RecordsExportPlugin.format`). `--student` and `--assignment` keep only those
employees and modules. nbgrader's stock CsvExportPlugin builds lines by hand,
writes no BOM and 0 for people who never submitted; see issue 5.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.plugins import ExportPlugin
from traitlets import Enum, Unicode

SUFFIX_FORMAT = {".csv": "csv", ".xlsx": "xlsx", ".json": "xapi"}


class RecordsExportPlugin(ExportPlugin):
    """Training records (status, best score, due dates...) per employee and module."""

    format = Enum(
        ["", "csv", "xlsx", "xapi"],
        default_value="",
        help="csv, xlsx or xapi; by default from the suffix of --to (csv otherwise).",
    ).tag(config=True)
    root = Unicode("", help="Content root (rules/, quizzes/, campaign.yaml); default: as for the CLI's --root.").tag(
        config=True
    )
    campaign = Unicode("", help="Campaign file or directory; default: campaign.yaml at the content root.").tag(
        config=True
    )
    as_of = Unicode("", help="YYYY-MM-DD: freeze the records at the end of that day (UTC); default today.").tag(
        config=True
    )

    def export(self, gradebook: Gradebook) -> None:
        from ..content.location import content_root
        from . import exports
        from . import rollup as R
        from .book import open_record_book

        dest = Path(self.to or "records.csv")
        fmt = self.format or SUFFIX_FORMAT.get(dest.suffix.lower(), "csv")
        coursedir = getattr(self.parent, "coursedir", None)
        course_dir = Path(coursedir.root) if coursedir is not None else Path.cwd()
        # The URL nbgrader opened (rendered with its password, which str() would mask).
        db_url = gradebook.engine.url.render_as_string(hide_password=False)
        book = open_record_book(
            course_dir,
            content_root(self.root or None, beside=course_dir),
            db_url=db_url,
            campaign_path=self.campaign or None,
            as_of=date.fromisoformat(self.as_of) if self.as_of else None,
        )
        records = book.records
        if self.student:
            records = records[records[R.EMPLOYEE_ID].isin([str(s) for s in self.student])]
        if self.assignment:
            records = records[records[R.MODULE_ID].isin([str(a) for a in self.assignment])]
        self.log.info("Exporting %d training records as of %s to %s (%s)", len(records), book.as_of, dest, fmt)
        exports.write(
            records.reset_index(drop=True),
            fmt,
            dest,
            home_page=book.campaign.home_page,
            module_titles=book.module_titles(),
        )
