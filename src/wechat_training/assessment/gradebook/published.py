"""Published content versions (wt_published): the server's own truth about
which (module, content version, rule versions, draw) the catalogue ever had.

`build` and `grade` record the current catalogue's versions; the grader checks
every submission's `content_version` and `rule_versions` against this table, and
recomputes the employee's seeded draw of THAT version from its fixed questions
and pool, so an older version is checked as strictly as the current one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa

from .database import engine_for, published_table, utc_text


@dataclass(frozen=True)
class PublishedVersion:
    module_id: str
    content_version: str
    rule_versions: dict[str, int]
    fixed: list[str]
    pool: list[str]  #: sorted
    draw_count: int


def record_published(db_url: str, versions: list[PublishedVersion]) -> int:
    """Insert the versions not recorded yet; returns how many were new. Creates the
    table if needed without nbgrader's schema (so `build` stays fast)."""
    engine = engine_for(db_url)
    published_table.create(engine, checkfirst=True)
    with engine.begin() as conn:
        known = {
            (r.module_id, r.content_version)
            for r in conn.execute(sa.select(published_table.c.module_id, published_table.c.content_version))
        }
        fresh = [
            {
                "module_id": v.module_id,
                "content_version": v.content_version,
                "rule_versions": json.dumps(v.rule_versions, sort_keys=True),
                "fixed": json.dumps(v.fixed),
                "pool": json.dumps(v.pool),
                "draw_count": v.draw_count,
                "published_at": utc_text(),
            }
            for v in versions
            if (v.module_id, v.content_version) not in known
        ]
        if fresh:
            conn.execute(published_table.insert(), fresh)
    return len(fresh)


def published_versions(db_url: str) -> dict[tuple[str, str], PublishedVersion]:
    engine = engine_for(db_url)
    if not sa.inspect(engine).has_table(published_table.name):
        return {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(published_table)).all()
    return {
        (r.module_id, r.content_version): PublishedVersion(
            r.module_id,
            r.content_version,
            json.loads(r.rule_versions),
            json.loads(r.fixed),
            json.loads(r.pool),
            int(r.draw_count),
        )
        for r in rows
    }
