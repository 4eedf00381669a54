"""The framework internals Trama still leans on, pinned: each test states what it relies on and
fails with what to change when an upgrade moves it. Everything else uses public API only
(a test below greps the product code for new uses)."""

import re
from pathlib import Path

import pytest
from django.db import connection, transaction
from wagtail.admin.ui.tables import TitleColumn
from wagtail.admin.views.generic import IndexView

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = (
    "accounts",
    "banking",
    "campaigns",
    "cms",
    "config",
    "crm",
    "events",
    "ops",
    "outreach",
    "permille",
    "relations",
    "fundraising",
)
# Documented despite the underscore (https://docs.djangoproject.com/en/6.1/ref/models/meta/,
# https://docs.djangoproject.com/en/6.1/topics/db/managers/#default-managers).
DOCUMENTED = {"_meta", "_default_manager"}
# Private names used where there is no public way, each pinned by a test below:
# `connection.run_on_commit` (campaigns/signals.py) has no underscore and is pinned too.
PINNED = {("crm/admin/common.py", "_get_url_func")}


def _product_files():
    for app in PRODUCT:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def _private_uses():
    """(file, name) of each access to a private attribute of another object (not `self.`,
    `cls.` or `super().`), leaving out names our own code defines (`module._helper`)."""
    pattern = re.compile(r"(?<!self)(?<!cls)(?<!super\(\))\.(_[a-z][a-z_]*)\b")
    sources = {path: path.read_text() for path in _product_files()}
    ours = "\n".join(sources.values())
    found = set()
    for path, text in sources.items():
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            for name in pattern.findall(line):
                if name not in DOCUMENTED and not re.search(rf"(def|class) {name}\b", ours):
                    found.add((str(path.relative_to(ROOT)), name))
    return found


def test_no_new_private_framework_api():
    unexpected = _private_uses() - PINNED
    assert not unexpected, (
        f"private framework API used: {sorted(unexpected)}. Use the public API, or pin it in "
        "tests/architecture/test_private_api.py with a test saying what to change on upgrade."
    )


@pytest.mark.django_db
def test_pin_django_run_on_commit():
    """campaigns/signals.py (`invalidate_after_commit`) reads `connection.run_on_commit` to
    drop a campaign's cached totals once per transaction, however many of its gifts are saved:
    Django has no public way to list a transaction's on-commit callbacks."""

    def callback():
        pass

    message = (
        "Django changed `connection.run_on_commit` (a list of (savepoint ids, callback, robust) "
        "of the open transaction, without those of rolled-back savepoints). Change "
        "campaigns/signals.py: keep its own per-transaction record of the campaigns queued, or "
        "drop the dedupe and call transaction.on_commit for every save."
    )
    with transaction.atomic():
        transaction.on_commit(callback)
        entries = list(connection.run_on_commit)
        assert any(len(e) == 3 and e[1] is callback for e in entries), message
        try:
            with transaction.atomic():
                transaction.on_commit(print)
                raise RuntimeError
        except RuntimeError:
            pass
        assert not any(e[1] is print for e in connection.run_on_commit), message


def test_pin_wagtail_title_column_url():
    """crm/admin/common.py (`ScopedIndexView._get_title_column`) makes a row's title open its
    inspect page (a donor's history) rather than the edit form: Wagtail builds the title column
    in the private `IndexView._get_title_column` and keeps its link in `_get_url_func`."""
    message = (
        "Wagtail changed IndexView._get_title_column or TitleColumn._get_url_func. Change "
        "crm/admin/common.py ScopedIndexView: make the first column's link the inspect URL "
        "through whatever Wagtail offers now (a column class, or list_display with a "
        "TitleColumn(get_url=...))."
    )
    assert callable(getattr(IndexView, "_get_title_column", None)), message
    column = TitleColumn("title", get_url=lambda item: "/edit/")
    assert column._get_url_func is not None, message
    column._get_url_func = lambda item: "/inspect/"
    assert column.get_link_url(object(), {}) == "/inspect/", message
