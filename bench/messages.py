"""Messages to donors: personalised messages rendered and handed to anymail's test backend per
second, for a network of 50,000 consenting donors, with ONE and with TWO real
`manage.py run_worker` processes (outreach.mailing), and the workers' memory: peak RSS, and
RSS over the first tenth of the sending against the last tenth (flat: no growth per message).

Runs on a throw-away PostgreSQL database (BENCH_MESSAGES_DATABASE_URL, default
trama_bench_messages, dropped and created again). Timed from the message queued to the message
SENT (preparing the 50,000 deliveries included), and the sending phase alone (prepared →
finished). Then the fundraising report of a network with 1,000,000 gifts (bench/_report_scale.py,
in its own process and database, BENCH_REPORT_DATABASE_URL).

    .venv/bin/python bench/messages.py [--donors N] [--report-gifts N (0: skip)]
"""

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, bench_network, days_ago, setup_django  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_MESSAGES_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trama_bench_messages"
)
TARGET_PER_WORKER = 300


def fresh_database(url):
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rss_mb(pid, field="VmRSS"):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def make_donors(network, count):
    from crm.models import Donation, Donor

    confirmed = datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    chunk = 5000
    for first in range(0, count, chunk):
        donors = Donor.objects.bulk_create(
            Donor(
                network=network,
                first_name=("Giulia", "Marco", "Anna", "Luca")[i % 4],
                last_name=f"Rossi {i}",
                email=f"donor{i}@example.org",
                language="en" if i % 10 == 0 else "it",
                newsletter=True,
                newsletter_confirmed_at=confirmed,
            )
            for i in range(first, min(first + chunk, count))
        )
        Donation.objects.bulk_create(
            Donation(
                network=network,
                donor=d,
                amount_cents=1000 + i % 9000,
                received_on=days_ago(1 + i % 700),
                status=Donation.Status.SUCCEEDED,
            )
            for i, d in enumerate(donors, start=first)
        )


def new_message(network, segment):
    from django.conf import settings
    from wagtail.rich_text import RichText

    from outreach.models import Message

    def body(hello, more):
        return [
            (
                "paragraph",
                RichText(
                    f"<p>{hello} {{nome}}, {more} {{ultimo_dono}}.</p>"
                    f'<p><a href="{settings.SITE_URL}/progetti/">Progetti</a> · '
                    '<a href="https://example.com/report">Report</a></p>'
                    "<ul><li>Uno</li><li>Due</li></ul>"
                ),
            ),
            (
                "key_figures",
                {
                    "title": "2026",
                    "figures": [
                        {"figure": "1.200", "label": "pasti"},
                        {"figure": "35", "label": "volontari"},
                    ],
                },
            ),
            ("button", {"label": "Dona", "page": None, "url": f"{settings.SITE_URL}/dona/"}),
        ]

    return Message.objects.create(
        network=network,
        segment=segment,
        subject="{nome}, grazie per {ultimo_dono}",
        preheader="Cosa abbiamo fatto con {campagna}",
        body=body("Ciao", "grazie per il tuo dono di"),
        subject_en="{nome}, thank you",
        preheader_en="What we did",
        body_en=body("Hello", "thank you for your gift of"),
    )


def run(network, segment, workers, count):
    """Send one message with `workers` run_worker processes; returns its figures."""
    from django.db import connections

    from outreach.models import Delivery, Message
    from outreach.sending import start_sending

    env = {
        **os.environ,
        "OUTREACH_SEND_WORKERS": str(workers),
        "LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "0.1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    time.sleep(4)  # Django set up in every worker, and its start-up sweep done
    message = new_message(network, segment)
    start = time.perf_counter()
    start_sending(message, None)
    samples = []  # (fraction sent, total RSS of the workers)
    try:
        while True:
            time.sleep(0.5)
            sent = Delivery.objects.filter(message=message, status=Delivery.Status.SENT).count()
            samples.append((sent / count, sum(rss_mb(p.pid) for p in procs)))
            peak = sum(rss_mb(p.pid, "VmHWM") for p in procs)
            if Message.objects.filter(pk=message.pk, status=Message.Status.SENT).exists():
                break
            if time.perf_counter() - start > 3600:
                raise RuntimeError("the message was not sent within an hour")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
    elapsed = time.perf_counter() - start
    message.refresh_from_db()
    assert message.recipients == count, (message.recipients, count)
    sending = (message.finished_at - message.prepared_at).total_seconds()
    first = [rss for fraction, rss in samples if 0 < fraction <= 0.1] or [samples[0][1]]
    last = [rss for fraction, rss in samples if fraction >= 0.9] or [samples[-1][1]]
    connections.close_all()
    return {
        "elapsed": elapsed,
        "sending": sending,
        "rate": count / elapsed,
        "send_rate": count / sending,
        "peak": peak,
        "first": max(first),
        "last": max(last),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--donors", type=int, default=50_000)
    parser.add_argument(
        "--report-gifts",
        type=int,
        default=1_000_000,
        help="gifts of the network whose fundraising report is timed afterwards (0: skip)",
    )
    args = parser.parse_args()
    fresh_database(DATABASE_URL)
    os.environ.update(
        MAIL_BACKEND="_mail_sink.EmailBackend",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        PYTHONPATH=os.pathsep.join([str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]),
    )
    setup_django(DATABASE_URL)
    from outreach.models import Segment

    network = bench_network()
    network.email = "notizie@bench.example"  # the sender of its news
    network.save(update_fields=["email"])
    make_donors(network, args.donors)
    segment = Segment.objects.create(network=network, name="Tutti")
    results = {n: run(network, segment, n, args.donors) for n in (1, 2)}
    print(f"Messages to {args.donors:,} consenting donors (PostgreSQL, anymail test backend):")
    for n, r in results.items():
        print(
            f"  {n} worker{'s' if n > 1 else ''}: {r['rate']:.0f} messages/s overall "
            f"({r['elapsed']:.1f} s, preparing the deliveries included), "
            f"{r['send_rate']:.0f}/s while sending ({r['send_rate'] / n:.0f}/s per worker); "
            f"RSS {r['first']:.0f} MB in the first tenth, {r['last']:.0f} MB in the last, "
            f"peak {r['peak']:.0f} MB"
        )
    ratio = results[2]["send_rate"] / results[1]["send_rate"]
    print(f"  two workers / one: {ratio:.2f}x; target > {TARGET_PER_WORKER}/s per worker")
    if args.report_gifts:
        # Its own database and Django setup: a separate process.
        sys.stdout.flush()
        script = ROOT / "bench" / "_report_scale.py"
        donors = max(args.report_gifts * 3 // 20, 50)  # 150,000 donors for 1,000,000 gifts
        command = [sys.executable, str(script), "--gifts", str(args.report_gifts)]
        command += ["--donors", str(donors)]
        report_database = os.environ.get(
            "BENCH_REPORT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trama_bench_report"
        )
        subprocess.run(command, check=True, env={**os.environ, "DATABASE_URL": report_database})


if __name__ == "__main__":
    main()
