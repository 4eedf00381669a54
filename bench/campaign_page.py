"""Campaign page figures with 100 and 100,000 succeeded gifts: requests per second, p50 and
p99 latency and SQL queries per request, with production settings (DEBUG off).

Two measurements:
- in process (Django's test client, no HTTP): "cold" clears the cached totals before every
  request (the aggregate runs each time); "warm" is the normal case (totals cached until a
  gift changes). Queries per request are counted here.
- a real server: gunicorn with 2 sync workers on 127.0.0.1, driven over HTTP by a separate
  client process (one keep-alive-less connection per worker, a bounded number of requests).

The page cache (cms.pagecache), measured in one run on production's gunicorn (config/gunicorn.py:
2 gthread workers, keep-alive; DEBUG off, the shared cache on Redis as in production), driven by
wrk (Debian's package: C, keep-alive, little CPU, so the client leaves the 2 cores to the server;
`--python-client` and `--sync` give the former shape: the Python client, a connection per
request, 2 sync workers): a trivial Django view (the same middleware, no template, no query) as
the baseline, the campaign page rendered for every request (PAGE_CACHE_SECONDS=0), and the
campaign page served from the cache; req/s and ratios. Target (issue 21): cached > 1,000 req/s
and > 5x uncached. `--cache-only` runs only this. `--hit-cpu`: the CPU a hit costs in process
(Django's whole stack, config/wsgi.py's exit before it, the trivial view and the Redis lookup
alone), which the load of other processes does not change.

And a mobile, Lighthouse-like figure: Chromium (Playwright) on a phone viewport with the CPU
slowed 4x (CDP `Emulation.setCPUThrottlingRate`) and a slow 4G network (CDP
`Network.emulateNetworkConditions`, Lighthouse's mobile values: 562.5 ms round trip, 1.47 Mbit/s
down, 675 kbit/s up), cache disabled: largest contentful paint (and its element) and cumulative
layout shift (PerformanceObserver, buffered) and the page weight (bytes over the wire: the page,
CSS, JS, images, fonts), of a bare page (a title and a paragraph from the same server: the
baseline), the home page and the campaign page, loaded in turn in one run. Targets: LCP < 1.5 s,
CLS < 0.05, the home page's LCP <= 1.6x the bare page's (issue 21). The pages come from the page
cache, as to any anonymous phone, served by gunicorn with static and media files from the same
process (gzip off: a front server would compress). Under this throttling every request waits
562 ms, so a linked stylesheet (render-blocking) or a largest element that is a fetched image
puts a page's LCP at least one such wait after the bare page (about 1.7x); hence the stylesheet
inline (its hash in the CSP) and the first image's bytes in the page (cms.stylesheet,
cms/templatetags/first_paint.py). `--mobile-only` runs only this.

Runs on a throw-away SQLite database, or on a throw-away PostgreSQL database next to
`DATABASE_URL=postgres://...` if that is set.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/trama_bench \
        .venv/bin/python bench/campaign_page.py [--requests N] [--server-requests N] [--loads N]
        [--cache-only [--seconds N] [--concurrency N] [--python-client] [--sync]] [--mobile-only]
        [--hit-cpu]
"""

import argparse
import http.client
import io
import json
import logging
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
# gunicorn runs config.settings with DEBUG off; this thin override only swaps the manifest
# static storage (it needs `collectstatic` first) for the plain one: same page, same queries.
# Its own key prefix on the shared Redis (other runs may use it), and a trivial view beside the
# application's URLs for the baseline.
SERVER_SETTINGS = """from config.settings import *  # noqa
STORAGES = {**STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
if "KEY_PREFIX" in CACHES["default"]:
    CACHES["default"]["KEY_PREFIX"] = "bench-RUN_ID"
ROOT_URLCONF = "trama_bench_urls"
""".replace("RUN_ID", uuid.uuid4().hex[:8])
SERVER_URLS = """from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as application


def trivial(request):
    return HttpResponse("ok")


def bare(request):
    return HttpResponse(BARE)


BARE = '''<!doctype html><html lang="it"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Trama</title></head>
<body><h1>Un doposcuola per ogni quartiere</h1><p>Una pagina nuda, dallo stesso server: un
titolo e un paragrafo di testo, senza fogli di stile, script, immagini o caratteri.</p></body>
</html>'''

urlpatterns = [path("bench/trivial/", trivial), path("bench/bare/", bare), *application]
"""
TRIVIAL_PATH = "/bench/trivial/"
# The baseline of the phone figures: a title and a paragraph, nothing else, from the same server.
BARE_PATH = "/bench/bare/"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# For the browser figure: the same application, also serving /static/ and /media/ (in
# production a front server does), so the page loads whole.
BROWSER_WSGI = """import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application

from cms.pagecache import CachedPageExit

# As config/wsgi.py: cached pages answered before Django's stack.
_app = CachedPageExit(StaticFilesHandler(get_wsgi_application()))


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith(settings.MEDIA_URL):
        root = Path(settings.MEDIA_ROOT).resolve()
        file = (root / path[len(settings.MEDIA_URL):]).resolve()
        if file.is_relative_to(root) and file.is_file():
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            body = file.read_bytes()
            start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
            return [body]
    return _app(environ, start_response)
"""
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"]
# Lighthouse's mobile throttling applied through DevTools (throttling.devtools* constants).
SLOW_4G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1474.56 * 1024 / 8,
    "uploadThroughput": 675 * 1024 / 8,
}
OBSERVE = """
window.__lcp = 0; window.__cls = 0; window.__lcpWhat = "";
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__lcp = entry.renderTime || entry.loadTime;
    const el = entry.element;
    window.__lcpWhat = el ? `${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""}` +
      ` ${entry.size}px${entry.url ? " " + entry.url.split("/").pop() : ""}` : "";
  }
}).observe({type: "largest-contentful-paint", buffered: true});
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
}).observe({type: "layout-shift", buffered: true});
"""
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only",
    "ALLOWED_HOSTS": "127.0.0.1,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench",
    "ANYMAIL_WEBHOOK_SECRET": "bench:bench",
    "MAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
    "LOG_LEVEL": "ERROR",
    # Every page rendered (the figures above); measure_page_cache turns the cache on.
    "PAGE_CACHE_SECONDS": "0",
}


def setup_django(tmp):
    sys.path.insert(0, str(tmp))
    sys.path.insert(0, str(ROOT))
    (tmp / "trama_bench_settings.py").write_text(SERVER_SETTINGS)
    (tmp / "trama_bench_urls.py").write_text(SERVER_URLS)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.update(
        PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="trama_bench_settings", MEDIA_ROOT=str(tmp)
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test client's "testserver" host in
    if connection.vendor == "postgresql":  # never touch the real database: use test_<name>
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
    else:
        call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())


def server_database_url():
    from django.db import connection

    url = os.environ["DATABASE_URL"]
    if connection.vendor != "postgresql":
        return url
    base, _sep, _name = url.rpartition("/")
    return f"{base}/{connection.settings_dict['NAME']}"


def add_gifts(campaign, total):
    """Bring the campaign to `total` succeeded gifts (bulk, in batches)."""
    from crm.models import Donation, Donor

    have = Donation.objects.filter(campaign=campaign).count()
    batch = 5000
    while have < total:
        n = min(batch, total - have)
        donors = Donor.objects.bulk_create(
            Donor(network=campaign.network, first_name=f"Donor{have + i}", public_mention=True)
            for i in range(n)
        )
        if donors[0].pk is None:
            donors = list(Donor.objects.order_by("-pk")[:n])
        Donation.objects.bulk_create(
            Donation(
                network=campaign.network,
                campaign=campaign,
                donor=donor,
                amount_cents=2500,
                status="succeeded",
            )
            for donor in donors
        )
        have += n


def summarise(timings):
    timings = sorted(timings)
    return {
        "p50": statistics.median(timings) * 1000,
        "p99": timings[max(0, int(len(timings) * 0.99) - 1)] * 1000,
    }


def measure(client, campaign, requests, cold):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import invalidate_progress

    client.get(campaign.url)  # warm up
    timings, queries = [], []
    for _ in range(requests):
        if cold:
            invalidate_progress(campaign.pk)
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(campaign.url)
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200
        queries.append(len(ctx.captured_queries))
    return {"rps": len(timings) / sum(timings), **summarise(timings), "queries": max(queries)}


# --- the real server -------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmp, port, app="config.wsgi:application", extra_env=None, production=False):
    """gunicorn with 2 sync workers, or with `production` its own config (config/gunicorn.py:
    gthread workers, WEB_THREADS threads each, keep-alive) with 2 workers."""
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "trama_bench_settings",
        "DATABASE_URL": server_database_url(),
        "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}",
        **(extra_env or {}),
    }
    if production:
        options = ["--config", str(ROOT / "config/gunicorn.py"), "--workers", str(WORKERS)]
        # As bin/trama web: every worker counts its requests into files (ops/metrics.py).
        metrics_dir = Path(tempfile.mkdtemp(prefix="metrics-", dir=tmp))
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    else:
        options = ["--workers", str(WORKERS), "--worker-class", "sync"]
    # Its log (one line per request, as in production) to a file, not over the figures.
    log = open(tmp / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 (the server's lifetime)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), app, *options, "--bind", f"127.0.0.1:{port}"]
        + ["--log-level", "warning", "--chdir", str(ROOT)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def stop_server(server):
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def drive(port, path, requests, concurrency):
    """The client process: `requests` GETs of `path` from `concurrency` threads."""
    timings, errors = [], []
    lock = threading.Lock()
    left = [requests]

    def worker():
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers={"Host": "127.0.0.1"})
            response = conn.getresponse()
            response.read()
            conn.close()
            elapsed = time.perf_counter() - started
            with lock:
                timings.append(elapsed) if response.status == 200 else errors.append(
                    response.status
                )

    for _ in range(min(20, requests)):  # warm up each worker (templates, caches)
        # a worker loads the application on its first request: slow on a loaded machine
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        conn.getresponse().read()
        conn.close()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if not timings:
        raise SystemExit(f"no request of {path} answered 200: {errors[:5]}")
    print(json.dumps({"rps": len(timings) / wall, **summarise(timings), "errors": errors}))


def wrk_available():
    return shutil.which("wrk") is not None


def server_cpu(server):
    """CPU seconds (user + system, from /proc) used so far by the server's worker processes:
    what its requests cost, however many other processes share the cores."""
    workers = subprocess.run(
        ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
    ).stdout.split()
    total = 0
    for pid in workers:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # replaced meanwhile (max_requests): its CPU is not counted
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def drive_wrk(port, path, seconds, connections, cpu=lambda: 0.0):
    """wrk (Debian's package, C, one thread): keep-alive connections and little CPU, so the
    client leaves the cores to the server. Warmed up first (each worker's first requests).
    `cpu()`, read before and after the measured run, gives the server's CPU per request."""
    url = f"http://127.0.0.1:{port}{path}"
    for _ in range(4 * WORKERS):  # a worker's first requests are slow on a loaded machine
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        conn.getresponse().read()
        conn.close()
    subprocess.run(["wrk", "-t1", f"-c{connections}", "-d2s", url], capture_output=True, check=True)
    cpu_before = cpu()
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu_used = cpu() - cpu_before
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def millis(label):
        value = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        return float(value[1]) * unit[value[2]]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50": millis("50%"),
        "p99": millis("99%"),
        "errors": ([f"{bad[1]} non-2xx"] if bad else []) + ([errors[1]] if errors else []),
        "cpu_us": cpu_used / int(re.search(r"(\d+) requests in", out)[1]) * 1e6,
    }


def measure_server(tmp, path, requests, concurrency):
    port = free_port()
    server = start_server(tmp, port)
    try:
        return drive_from_client(port, path, requests, concurrency)
    finally:
        stop_server(server)


def drive_from_client(port, path, requests, concurrency):
    out = subprocess.run(
        [sys.executable, __file__, "--client", str(port), path, str(requests)] + [str(concurrency)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"the client failed on {path}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_page_cache(tmp, path, options):
    """The trivial view, the page uncached and the page from the cache, each server with the
    shared cache on Redis (production's shape); the trivial view on both servers."""
    figures = {}
    for label, page_cache_seconds in (("uncached", "0"), ("cached", "120")):
        port = free_port()
        env = {"REDIS_URL": REDIS_URL, "PAGE_CACHE_SECONDS": page_cache_seconds}
        server = start_server(tmp, port, extra_env=env, production=not options.sync)
        try:
            for name, target in ((f"trivial ({label} server)", TRIVIAL_PATH), (label, path)):
                if options.python_client or not wrk_available():
                    before = server_cpu(server)
                    figures[name] = drive_from_client(
                        port, target, options.server_requests, options.concurrency
                    )
                    served = options.server_requests + min(20, options.server_requests)
                    figures[name]["cpu_us"] = (server_cpu(server) - before) / served * 1e6
                else:
                    figures[name] = drive_wrk(
                        port,
                        target,
                        options.seconds,
                        options.concurrency,
                        cpu=lambda server=server: server_cpu(server),
                    )
        finally:
            stop_server(server)
    return figures


def print_page_cache(figures, options):
    trivial = max(
        figures["trivial (uncached server)"]["rps"], figures["trivial (cached server)"]["rps"]
    )
    server = (
        f"{WORKERS} sync workers"
        if options.sync
        else f"{WORKERS} workers, config/gunicorn.py (gthread, keep-alive)"
    )
    if options.python_client or not wrk_available():
        client = (
            f"Python client, {options.concurrency} connections, {options.server_requests} requests"
            + ("" if options.python_client else " (wrk is not installed: `make system-packages`)")
        )
    else:
        client = f"wrk, {options.concurrency} keep-alive connections, {options.seconds} s"
    print(
        f"page cache: gunicorn {server}; {client}; Redis cache; "
        f"load average {os.getloadavg()[0]:.1f}; CPU: gunicorn's workers per request, from /proc:"
    )
    for label, m in figures.items():
        print(
            f"  {label:<26} {m['rps']:6.0f} req/s  p50 {m['p50']:5.1f} ms  p99 {m['p99']:5.1f} ms"
            f"  {m['rps'] / trivial:5.2f}x trivial  CPU {m['cpu_us']:5.0f} us"
            + (f"  ERRORS {m['errors'][:5]}" if m["errors"] else "")
        )
    cached, uncached = figures["cached"]["rps"], figures["uncached"]["rps"]
    print(
        f"  cached page {cached / uncached:.1f}x the uncached page "
        f"(targets: > 1,000 req/s: {'yes' if cached > 1000 else 'NO'}; "
        f"> 5x uncached: {'yes' if cached > 5 * uncached else 'NO'})"
    )


def load_on_phone(browser, url):
    """One cold load of `url` on the throttled phone: (LCP s, CLS, bytes, first byte s)."""
    context = browser.new_context(
        viewport={"width": 412, "height": 823},
        device_scale_factor=1.75,
        is_mobile=True,
        has_touch=True,
        locale="it-IT",
    )
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    received = []
    cdp.on(
        "Network.loadingFinished",
        lambda event, received=received: received.append(event["encodedDataLength"]),
    )
    page.add_init_script(OBSERVE)
    page.goto(url, wait_until="load", timeout=180_000)
    page.wait_for_timeout(1500)  # late shifts and the last LCP candidate
    lcp, cls, ttfb, what = page.evaluate(
        "[window.__lcp, window.__cls,"
        " performance.getEntriesByType('navigation')[0].responseStart, window.__lcpWhat]"
    )
    context.close()
    return lcp / 1000, cls, sum(received), ttfb / 1000, what


def measure_mobile(tmp, paths, loads):
    """For each of `paths` (label: path): median LCP and worst CLS of `loads` cold loads on a
    throttled phone, and its weight. The pages' loads alternate, so a busy moment of the
    machine falls on all of them alike."""
    from playwright.sync_api import sync_playwright

    (tmp / "trama_bench_wsgi.py").write_text(BROWSER_WSGI)
    port = free_port()
    # As a phone gets them in production: anonymous, so from the page cache (on Redis), which
    # the warm-up load below fills.
    env = {"REDIS_URL": REDIS_URL, "PAGE_CACHE_SECONDS": "120"}
    server = start_server(tmp, port, app="trama_bench_wsgi:application", extra_env=env)
    figures = {label: [] for label in paths}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            for path in paths.values():  # warm the server (templates, renditions)
                load_on_phone(browser, f"http://127.0.0.1:{port}{path}")
            for _ in range(loads):
                for label, path in paths.items():
                    figures[label].append(load_on_phone(browser, f"http://127.0.0.1:{port}{path}"))
            browser.close()
    finally:
        stop_server(server)
    return {
        label: {
            "lcp": statistics.median(f[0] for f in rows),
            "cls": max(f[1] for f in rows),
            "bytes": statistics.median(f[2] for f in rows),
            "ttfb": statistics.median(f[3] for f in rows),
            "element": statistics.mode(f[4] for f in rows),
        }
        for label, rows in figures.items()
    }


def phone_paths(campaign):
    from cms.models import HomePage

    return {
        "bare page": BARE_PATH,
        "home page": HomePage.objects.get().url,
        "campaign page": campaign.url,
    }


def print_mobile(mobile, loads):
    print(
        f"phone (412x823, CPU 4x slower, slow 4G, cold cache, median of {loads} loads, "
        f"load average {os.getloadavg()[0]:.1f}):"
    )
    bare = mobile["bare page"]["lcp"]
    for label, m in mobile.items():
        print(
            f"  {label:<14} LCP {m['lcp']:.2f} s ({m['lcp'] / bare:.2f}x the bare page)  "
            f"CLS {m['cls']:.3f}  weight {m['bytes'] / 1024:.0f} KB  first byte {m['ttfb']:.2f} s"
            f"  (LCP element: {m['element']})"
        )
    print(
        "  targets: LCP < 1.5 s, CLS < 0.05; home page LCP <= 1.6x the bare page: "
        + ("yes" if mobile["home page"]["lcp"] <= 1.6 * bare else "NO")
    )


def measure_hit_cpu(campaign, requests):
    """CPU per request in this process (time.process_time, so other processes' load does not
    count): a page-cache hit through Django's whole WSGI stack (the middleware: an MGET of the
    version and the page), through the WSGI exit (after its first hit, from the process's copy:
    a GET of the version), the trivial view, and those two Redis reads alone."""
    from django.core.cache import cache
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    from cms import pagecache
    from cms.pagecache import CachedPageExit

    app = WSGIHandler()
    exit_app = CachedPageExit(app)  # config/wsgi.py's application

    def through(application, path):
        def run():
            environ = RequestFactory().get(path, HTTP_HOST="127.0.0.1").environ
            response = application(environ, lambda status, headers, exc_info=None: None)
            b"".join(response)
            if hasattr(response, "close"):
                response.close()

        return run

    def through_django(path):
        return through(app, path)

    key = pagecache._key(RequestFactory().get(campaign.url, HTTP_HOST="127.0.0.1"))

    def lookup_only():
        found = cache.get_many([pagecache.CONTENT_VERSION_KEY, key])
        assert found[key]["version"] == found[pagecache.CONTENT_VERSION_KEY]

    def version_only():
        assert cache.get(pagecache.CONTENT_VERSION_KEY)

    through_django(campaign.url)()  # stored
    figures = {}
    for label, run in (
        ("cached page, whole stack", through_django(campaign.url)),
        ("cached page, WSGI exit", through(exit_app, campaign.url)),
        ("trivial view, whole stack", through_django(TRIVIAL_PATH)),
        ("the middleware's MGET + unpickle", lookup_only),
        ("the exit's version GET", version_only),
    ):
        for _ in range(50):
            run()
        started = time.process_time()
        for _ in range(requests):
            run()
        figures[label] = (time.process_time() - started) / requests * 1e6
    return figures


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, path, requests, concurrency = sys.argv[2:6]
        return drive(int(port), path, int(requests), int(concurrency))
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--server-requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=WORKERS)
    parser.add_argument("--loads", type=int, default=5, help="cold loads on the phone")
    parser.add_argument("--mobile-only", action="store_true", help="only the phone figure")
    parser.add_argument("--cache-only", action="store_true", help="only the page cache figures")
    parser.add_argument(
        "--hit-cpu", action="store_true", help="only the CPU per cached hit, in process"
    )
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run (page cache)")
    parser.add_argument(
        "--python-client", action="store_true", help="page cache: the Python client, not wrk"
    )
    parser.add_argument(
        "--sync", action="store_true", help="page cache: 2 sync workers, not config/gunicorn.py"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="trama-bench-campaign-"))
    if args.hit_cpu:  # this process with the page cache on Redis, as production's
        PRODUCTION_ENV.update(PAGE_CACHE_SECONDS="120", REDIS_URL=REDIS_URL)
    setup_django(tmp)
    from django.db import connection
    from django.test import Client

    from campaigns.models import CampaignPage

    campaign = CampaignPage.objects.order_by("pk").first()
    campaign.donor_wall = True
    campaign.save_revision().publish()
    campaign = CampaignPage.objects.get(pk=campaign.pk)
    if args.hit_cpu:
        logging.getLogger("ops.requests").setLevel(logging.WARNING)  # not 3,000 lines here
        figures = measure_hit_cpu(campaign, args.requests * 10)
        if connection.vendor == "postgresql":
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
        print(f"CPU per request in process (load average {os.getloadavg()[0]:.1f}):")
        for label, micros in figures.items():
            print(f"  {label:<32} {micros:6.0f} us")
        return None
    if args.mobile_only:
        add_gifts(campaign, 100)
        connection.close()
        mobile = measure_mobile(tmp, phone_paths(campaign), args.loads)
        if connection.vendor == "postgresql":
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
        return print_mobile(mobile, args.loads)
    if args.cache_only:
        add_gifts(campaign, 100)
        connection.close()
        cached = measure_page_cache(tmp, campaign.url, args)
        if connection.vendor == "postgresql":
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
        print(f"database: {connection.vendor}, cores: {os.cpu_count()}")
        return print_page_cache(cached, args)
    client = Client()
    rows, served = [], []
    for gifts in (100, 100_000):
        add_gifts(campaign, gifts)
        for cold in (True, False):
            m = measure(client, campaign, args.requests, cold)
            rows.append((gifts, "cold" if cold else "warm", m))
        connection.close()  # the bench holds no transaction open while gunicorn reads
        m = measure_server(tmp, campaign.url, args.server_requests, args.concurrency)
        served.append((gifts, m, rows[-1][2]["queries"]))
    cached = measure_page_cache(tmp, campaign.url, args)
    mobile = measure_mobile(tmp, phone_paths(campaign), args.loads)
    if connection.vendor == "postgresql":
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    print(f"database: {connection.vendor}, cores: {os.cpu_count()}, requests: {args.requests}")
    print("in process (test client, server time only):")
    for gifts, kind, m in rows:
        print(
            f"  {gifts:>7} gifts, {kind} totals: {m['rps']:6.0f} req/s  p50 {m['p50']:5.1f} ms  "
            f"p99 {m['p99']:5.1f} ms  {m['queries']} queries/request"
        )
    print(
        f"gunicorn, {WORKERS} sync workers, {args.concurrency} client connections, "
        f"{args.server_requests} requests, warm totals:"
    )
    for gifts, m, queries in served:
        print(
            f"  {gifts:>7} gifts: {m['rps']:6.0f} req/s  p50 {m['p50']:5.1f} ms  "
            f"p99 {m['p99']:5.1f} ms  {queries} queries/request"
            + (f"  ERRORS {m['errors'][:5]}" if m["errors"] else "")
        )
    print_page_cache(cached, args)
    print_mobile(mobile, args.loads)
    same = {m["queries"] for g, k, m in rows if k == "cold"}
    print(
        f"queries per request equal at 100 and 100,000 gifts: {'yes' if len(same) == 1 else 'NO'}"
    )


if __name__ == "__main__":
    main()
