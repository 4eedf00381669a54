"""Shared fixtures: a seeded home page, networks, and their people."""

import http.server
import io
import json
import threading
import time

import pytest
import requests
from django.core.management import call_command
from pytest_django.fixtures import _get_databases_for_setup, validate_django_db

from tests import template_db

# --- The test database, migrated once per run (tests/template_db.py) ----------------------------


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        template_db.new_run()
    from tests import fast_flush

    fast_flush.install()  # the emptying after each transactional test (tests/fast_flush.py)
    # Stripe's SDK sleeps 0.5-5 s before each retry of a failed call: the tests keep its retries
    # (and their idempotency keys), not the waits. Many tests give with Stripe unreachable on
    # purpose; the waits were most of their time (a 35-gift test: 20 s).
    from stripe._http_client import HTTPClient

    HTTPClient.INITIAL_DELAY, HTTPClient.MAX_DELAY = 0.001, 0.01


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        template_db.forget_run()


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's, except that xdist workers copy one migrated template (see above)."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    verbosity = request.config.option.verbose
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    keepdb = django_db_keepdb and not django_db_createdb
    if template_db.run_files() is None or keepdb or not django_db_use_migrations:
        if not django_db_use_migrations:
            from pytest_django.fixtures import _disable_migrations

            _disable_migrations()
        with django_db_blocker.unblock():
            old_names = setup_databases(
                verbosity=verbosity,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                keepdb=keepdb,
            )
    else:
        assert set(aliases) <= {"default"}, "the template covers the default database only"
        connection = connections["default"]
        with django_db_blocker.unblock():
            old_name = template_db.setup_worker_database(
                connection, verbosity, fresh=django_db_createdb
            )
            old_names = [(connection, old_name, True)]
            if "default" in serialized_aliases:
                connection._test_serialized_contents = connection.creation.serialize_db_to_string()
    yield
    if not keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(old_names, verbosity=verbosity)
            except Exception as exc:
                request.node.warn(
                    pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}")
                )


# --- The demo, seeded once per test process ------------------------------------------------------
#
# `seed_demo` takes about a second; some 700 tests use its rows. It runs once per test process
# (each xdist worker) inside a transaction left open under the tests: each test that asks for
# `demo` then runs in a savepoint of it (Django's TestCase wraps the test in `atomic`, which nests)
# and rolls back to the freshly seeded rows. Every other test runs exactly as before, on a
# database without the demo: before a test that does not ask for the demo (no database, a
# database without the demo, or a transactional test, whose commits must reach other threads and
# processes and which flushes the tables after it) the transaction is rolled back, and the next
# test that asks for the demo seeds it again. Tests that ask for the demo are run first (the
# order is otherwise kept) so that happens a few times per process, not at every turn.
TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def wants_seeded_demo(item):
    """Whether `item` asks for the demo in a test rolled back at its end (not transactional)."""
    names = set(getattr(item, "fixturenames", ()))
    if "demo" not in names or names & TRANSACTIONAL_FIXTURES:
        return False
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transaction, reset_sequences, *_ = validate_django_db(marker)
        if transaction or reset_sequences:
            return False
    return True


class SeededDemo:
    """The open transaction holding the demo in this process's test database."""

    def __init__(self):
        self.blocker = None  # pytest-django's blocker, once the test database exists
        self.atomic = None
        self.item = None  # the test being set up
        self.seeds = 0

    def holds_seed(self):
        from django.db import connection

        return (
            self.atomic is not None
            and connection.connection is not None
            and not connection.closed_in_transaction
            and not connection.needs_rollback
            and connection.atomic_blocks[:1] == [self.atomic]
        )

    def sync(self, item):
        """Seed before a test that asks for the demo; roll back before any other test."""
        if self.blocker is None or item is None:
            return
        if wants_seeded_demo(item):
            self.enter()
        else:
            self.leave()

    def enter(self):
        from django.db import connection, transaction

        if self.holds_seed():
            return
        self.leave()
        with self.blocker.unblock():
            atomic = transaction.atomic()
            # As a TestCase's own wrapping transaction: `atomic(durable=True)` may open inside it
            # (crm.outbound tells the application's transactions from the tests' this way).
            atomic._from_testcase = True
            atomic.__enter__()
            try:
                if connection.vendor == "postgresql":
                    # Between two tests the transaction waits idle (e.g. while xdist hands this
                    # process its next test): the settings' one-minute limit must not end it.
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
                call_command("seed_demo", stdout=io.StringIO())
            except BaseException:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
                raise
        self.atomic = atomic
        self.seeds += 1

    def leave(self):
        from django.db import connection, transaction

        atomic, self.atomic = self.atomic, None
        if atomic is None or atomic not in connection.atomic_blocks:
            return
        with self.blocker.unblock():
            # Every block down to ours (a test never leaves one open, but be sure), then ours.
            while atomic in connection.atomic_blocks:
                transaction.set_rollback(True)
                connection.atomic_blocks[-1].__exit__(None, None, None)


SEEDED_DEMO = SeededDemo()


# `make test` runs the suite on PostgreSQL, then on SQLite the tests that use the test database:
# the others (the stand-in, the layers, translations, processes started on a database of their
# own) do exactly the same thing on either run.
# (Every test has `django_db_blocker` through the autouse `_seeded_demo`: no test uses it alone.)
DATABASE_FIXTURES = TRANSACTIONAL_FIXTURES | {"db", "django_db_serialized_rollback"}


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use the test database (make test's second database)",
    )


def uses_test_database(item):
    from django.test import TransactionTestCase

    cls = getattr(item, "cls", None)
    return (
        bool(set(getattr(item, "fixturenames", ())) & DATABASE_FIXTURES)
        or item.get_closest_marker("django_db") is not None
        or (cls is not None and issubclass(cls, TransactionTestCase))
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("database_tests_only"):
        kept = [item for item in items if uses_test_database(item)]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
    items.sort(key=lambda item: not wants_seeded_demo(item))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before the test's fixtures (so before any of them changes settings or the language)."""
    SEEDED_DEMO.item = item
    SEEDED_DEMO.sync(item)
    if SEEDED_DEMO.atomic is None and SEEDED_DEMO.blocker is not None:
        from django.db import connection

        # A test that commits (transactional, or with threads and processes) must start outside
        # any transaction: its writes must reach other connections. Fail loudly, never hang.
        assert not connection.in_atomic_block, f"{item.nodeid}: a transaction is still open"


@pytest.fixture(scope="session", autouse=True)
def _seeded_demo(request, django_db_blocker):
    """Once the test database exists (the first test that asks for the demo creates it)."""
    if not any(wants_seeded_demo(item) for item in request.session.items):
        yield SEEDED_DEMO
        return
    request.getfixturevalue("django_db_setup")
    SEEDED_DEMO.blocker = django_db_blocker
    SEEDED_DEMO.sync(SEEDED_DEMO.item)
    yield SEEDED_DEMO
    SEEDED_DEMO.leave()
    SEEDED_DEMO.blocker = None


@pytest.fixture
def demo(db, _seeded_demo):
    """The demo content (two networks, pages, people), seeded as `make demo` does: in this
    test's transaction for a transactional test, else already there (see above)."""
    if not _seeded_demo.holds_seed():
        call_command("seed_demo", stdout=io.StringIO())
    from crm.models import Network

    return {network.slug: network for network in Network.objects.all()}


@pytest.fixture
def network_factory(db):
    from crm.models import Network

    def make(slug="rete-test", **overrides):
        fields = {
            "name": slug.replace("-", " ").title(),
            "legal_name": f"Associazione {slug} ETS",
            "codice_fiscale": "92012340011",
            "entity_kind": Network.EntityKind.APS,
            "street_address": "Via Verdi 1",
            "postal_code": "20121",
            "city": "Milano",
            "province": "MI",
            "signer_name": "Maria Rossi",
        }
        fields.update(overrides)
        # A transactional test before this one flushed the root collection the migrations made
        # (its network's media collection goes under it).
        from wagtail.models import Collection

        if Collection.get_first_root_node() is None:
            Collection.add_root(name="Root")
        network = Network(slug=slug, **fields)
        network.full_clean()
        network.save()
        return network

    return make


# --- Giving (campaigns): the local Stripe stand-in, shared by tests/campaigns and tests/e2e ----


@pytest.fixture(scope="session")
def standin_url():
    """The stand-in (standin/) on a background thread of this test process: one per process."""
    from standin import core
    from standin.server import run_in_thread

    # Retries over ~16 s, as Stripe retries for days: a loaded 2-core machine can keep our
    # receiver busy past a few seconds (seen: a fresh-clone run lost a first delivery).
    core.settings.update(webhook_delay=0.01, webhook_retries=[0.2, 0.5, 1, 2, 4, 8], sepa_delay=0.3)
    base_url, stop = run_in_thread(port=0)
    yield base_url
    stop()


@pytest.fixture
def stripe_standin(standin_url, settings):
    """Point our Stripe calls at a freshly reset stand-in."""
    import requests

    requests.delete(f"{standin_url}/_config/data", timeout=5).raise_for_status()
    settings.STRIPE_API_BASE = standin_url
    settings.STRIPE_SECRET_KEY = "sk_test_standin"
    return standin_url


class Capture:
    """A tiny HTTP endpoint registered with the stand-in: keeps each delivery's raw body and
    `Stripe-Signature` header, so tests replay them verbatim into our webhook view."""

    def __init__(self):
        self.deliveries = []
        self.lock = threading.Lock()
        capture = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with capture.lock:
                    capture.deliveries.append((body, self.headers["Stripe-Signature"]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def types(self):
        with self.lock:
            return [json.loads(body)["type"] for body, _sig in self.deliveries]

    # Generous: the stand-in delivers from its own thread, which a loaded 2-core machine can
    # keep waiting for seconds (returns as soon as the events are in).
    def wait_for(self, *types, timeout=30):
        deadline = time.monotonic() + timeout
        while not all(t in self.types() for t in types):
            if time.monotonic() > deadline:
                raise AssertionError(f"missing {types}; got {self.types()}")
            time.sleep(0.02)

    def take(self):
        with self.lock:
            taken, self.deliveries = self.deliveries, []
        return taken


# Defined here, once: a session fixture imported into another conftest (tests/events' took this
# one) is a second fixture with its own cache, so a process running both got two captures under
# the one endpoint id, and the first one's tests, whose capture was replaced, never saw their
# events again (tests/test_fixtures.py keeps it so).
@pytest.fixture(scope="session")
def _capture(standin_url):
    """The stand-in's webhook endpoint for the giving tests (tests/campaigns, tests/events)."""
    capture = Capture()
    response = requests.post(
        f"{standin_url}/_config/webhooks/campaigns-tests",
        data={"url": capture.url, "secret": "whsec_local_standin"},
        timeout=5,
    )
    response.raise_for_status()
    yield capture
    capture.server.shutdown()


# --- end of Giving fixtures --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _process_caches_forget_rolled_back_rows():
    """Each test's rows are rolled back without delete signals, and SQLite hands their ids out
    again: what this process cached about them (Wagtail's renditions, by image id) goes too."""
    yield
    from django.core.cache import caches

    caches["renditions"].clear()
    caches["fragments"].clear()
