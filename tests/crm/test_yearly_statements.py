"""Yearly statements from the admin: the preview and its reasons, the confirmation before the
year is over, a run on the (immediate) task backend with its result and ZIP, a run stopped
half-way that resumes without a second number, and another network's treasurer kept out."""

import datetime
import io
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm.models import Donation, Donor, Receipt, StatementRun
from crm.receipt_files import download_name
from crm.statement_runs import carry_out, claim, preview
from crm.statement_tasks import run_yearly_statements
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db

LAST_YEAR = timezone.localdate().year - 1
THIS_YEAR = timezone.localdate().year


@pytest.fixture
def network(demo):
    return demo["oltre-il-ponte"]


@pytest.fixture
def treasurer(users):
    return users["tesoreria-oltre-il-ponte"]


@pytest.fixture
def make(network):
    def donor(name, *, cf="RSSMRA85T10A562S", street="Via Roma 1", city="Lecco", **fields):
        return Donor.objects.create(
            network=network,
            first_name=name,
            last_name="Rossi",
            email=f"{name.lower()}@example.org",
            codice_fiscale=cf,
            street_address=street,
            city=city,
            **fields,
        )

    def gift(donor, cents=5000, *, year=LAST_YEAR, method="card", asked=True, day=1):
        return Donation.objects.create(
            network=network,
            donor=donor,
            amount_cents=cents,
            received_on=datetime.date(year, 3, day),
            status=Donation.Status.SUCCEEDED,
            method=method,
            wants_receipt=asked,
        )

    return donor, gift


@pytest.fixture
def cases(make):
    donor, gift = make
    people = {
        "ok": donor("Olga"),
        "no_cf": donor("Nando", cf=""),
        "no_address": donor("Ada", street=""),
        "cash": donor("Carlo"),
        "not_asked": donor("Nina"),
        "two": donor("Tino", cf="", city=""),
    }
    gift(people["ok"], 5000)
    gift(people["ok"], 2000, method="cash", asked=False, day=2)
    gift(people["no_cf"])
    gift(people["no_address"])
    gift(people["cash"], method="cash")
    gift(people["not_asked"], asked=False)
    gift(people["two"])
    return people


def test_the_preview_says_who_is_left_out_and_why(cases, network):
    rows = preview(network, LAST_YEAR)

    assert [r.donor_id for r in rows.eligible] == [cases["ok"].pk]
    assert rows.eligible[0].amount_cents == 7000  # the cash gift is on the statement too
    reasons = {r.donor_id: r.reasons for r in rows.left_out}
    assert reasons == {
        cases["no_cf"].pk: ["no_cf"],
        cases["no_address"].pk: ["no_address"],
        cases["cash"].pk: ["only_cash"],
        cases["not_asked"].pk: ["not_asked"],
        cases["two"].pk: ["no_cf", "no_address"],
    }

    # a network that sends statements to everybody does not ask for a request
    network.annual_statement_for_all = True
    network.save()
    rows = preview(network, LAST_YEAR)
    assert cases["not_asked"].pk in rows.eligible_ids


def test_the_screen_lists_the_reasons(client, treasurer, network, cases):
    client.force_login(treasurer)
    response = client.get(reverse("crm_yearly:statements", args=[network.pk, LAST_YEAR]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 donor gets a statement" in html and "5 left out" in html
    for label in (
        "No codice fiscale",
        "No postal address",
        "Only cash gifts (no tax benefit)",
        "Did not ask for a receipt, and the network sends statements on request",
    ):
        assert label in html, label
    assert "is not over" not in html  # last year is over: no warning


def test_before_31_december_a_confirmation_is_needed(client, treasurer, network, make):
    donor, gift = make
    gift(donor("Olga"), year=THIS_YEAR)
    client.force_login(treasurer)
    url = reverse("crm_yearly:statements", args=[network.pk, THIS_YEAR])

    # the page warns that the year is not over
    assert "is not over" in client.get(url).content.decode()

    # without the confirmation: refused, nothing issued
    response = client.post(url, {"send_email": "on"})
    assert response.status_code == 400
    assert "tick the confirmation" in response.content.decode()
    assert not StatementRun.objects.exists() and not Receipt.objects.exists()

    # with it: the run starts
    response = client.post(url, {"send_email": "on", "confirm_early": "on"})
    assert response.status_code == 302
    assert StatementRun.objects.get().year == THIS_YEAR


def test_a_run_issues_emails_and_zips_the_statements(
    client, treasurer, network, cases, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(treasurer)
    url = reverse("crm_yearly:statements", args=[network.pk, LAST_YEAR])

    # when the treasurer confirms (the year is over: no extra confirmation)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"send_email": "on"})

    # then the run issued one statement, rendered and emailed it
    run = StatementRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("crm_yearly:run", args=[run.pk])
    assert run.status == StatementRun.Status.DONE
    statement = run.receipts.get()
    assert (statement.donor, statement.kind, statement.amount_cents) == (
        cases["ok"],
        "annual",
        7000,
    )
    assert Receipt.objects.count() == 1
    status = client.get(reverse("crm_yearly:run_status", args=[run.pk])).json()
    assert status["issued"] == 1 and status["rendered"] == 1 and status["complete"] is True
    assert status["email_queued"] == 1 and status["emailed"] == 1
    assert [m.to for m in mailoutbox] == [["olga@example.org"]]

    # the run page shows the result
    page = client.get(reverse("crm_yearly:run", args=[run.pk])).content.decode()
    assert "Download the PDFs (ZIP)" in page

    # and the ZIP holds that run's PDF, readable
    response = client.get(reverse("crm_yearly:run_zip", args=[run.pk]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    name = download_name(statement)  # riepilogo-OP-2025-00001.pdf
    assert sorted(archive.namelist()) == sorted([name, "index.csv"])
    assert "Olga Rossi" in pdf_text(archive.read(name))

    # a second confirmation issues nothing new
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"send_email": "on"})
    assert Receipt.objects.count() == 1


def test_a_stopped_run_resumes_without_a_second_number(network, make, treasurer):
    donor, gift = make
    for i in range(5):
        gift(donor(f"D{i}"))
    run = StatementRun.objects.create(network=network, year=LAST_YEAR, started_by=treasurer)

    class Killed(Exception):
        pass

    def killed_after_two(done, total):
        if done == 2:
            raise Killed

    # given a run stopped after two statements (its worker died)
    with pytest.raises(Killed):
        carry_out(run, progress=killed_after_two)
    run.refresh_from_db()
    assert run.status == StatementRun.Status.RUNNING and run.receipts.count() == 2

    # when the worker takes it up again (twice, as a sweep and a click might)
    run_yearly_statements.call(run.pk)
    run_yearly_statements.call(run.pk)

    # then every donor has one statement, numbers 1..5, all in the run
    run.refresh_from_db()
    assert run.status == StatementRun.Status.DONE
    sequences = sorted(Receipt.objects.values_list("sequence", flat=True))
    assert sequences == [1, 2, 3, 4, 5]
    assert run.receipts.count() == 5 and (run.done, run.total) == (5, 5)


def test_the_resume_button_only_for_a_stale_run(client, treasurer, network, make):
    donor, gift = make
    gift(donor("Olga"))
    run = StatementRun.objects.create(
        network=network, year=LAST_YEAR, status=StatementRun.Status.RUNNING
    )
    client.force_login(treasurer)
    url = reverse("crm_yearly:run_resume", args=[run.pk])

    StatementRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
    client.post(url)
    assert not run.receipts.exists()  # still working: not queued again

    StatementRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=10)
    )
    status = client.get(reverse("crm_yearly:run_status", args=[run.pk])).json()
    assert status["stale"] is True
    client.post(url)  # the immediate backend runs it on commit... of the test's transaction
    run_yearly_statements.call(run.pk)
    run.refresh_from_db()
    assert run.status == StatementRun.Status.DONE and run.receipts.count() == 1


def test_another_networks_treasurer_gets_404(client, users, demo, network, make):
    donor, gift = make
    gift(donor("Olga"))
    run = StatementRun.objects.create(network=network, year=LAST_YEAR)
    client.force_login(users["tesoreria-valle-serena"])
    for url in (
        reverse("crm_yearly:statements", args=[network.pk, LAST_YEAR]),
        reverse("crm_yearly:run", args=[run.pk]),
        reverse("crm_yearly:run_status", args=[run.pk]),
        reverse("crm_yearly:run_zip", args=[run.pk]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("crm_yearly:statements", args=[network.pk, LAST_YEAR]))
    assert response.status_code == 404
    assert client.post(reverse("crm_yearly:run_resume", args=[run.pk])).status_code == 404
    assert not Receipt.objects.exists()

    # and the menu leads each treasurer to their own networks only
    page = client.get(reverse("crm_yearly:index")).content.decode()
    assert demo["valle-serena"].name in page and network.name not in page


def test_another_year_is_chosen_on_the_screen_not_in_the_address(client, treasurer, network):
    client.force_login(treasurer)
    page = client.get(reverse("crm_yearly:index")).content.decode()
    assert "change the year in the page" not in page
    assert 'name="year"' in page
    # a year typed in the box gets its links
    older = LAST_YEAR - 5
    page = client.get(reverse("crm_yearly:index"), {"year": str(older)}).content.decode()
    assert reverse("crm_yearly:agenzia", args=[network.pk, older]) in page
    assert reverse("crm_yearly:statements", args=[network.pk, older]) in page
    # nonsense is ignored, never a 500
    for bad in ("abc", "-3", "²", "99999999999999999999", "1200"):
        response = client.get(reverse("crm_yearly:index"), {"year": bad})
        assert response.status_code == 200, bad
        assert reverse("crm_yearly:agenzia", args=[network.pk, LAST_YEAR]) in (
            response.content.decode()
        )


def test_the_command_follows_the_same_rules(cases, network):
    out = io.StringIO()
    call_command(
        "issue_annual_statements",
        str(LAST_YEAR),
        "--network",
        network.slug,
        "--no-email",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert list(Receipt.objects.values_list("donor", flat=True)) == [cases["ok"].pk]
    assert "5 donors left out" in out.getvalue()


def test_a_run_that_still_beats_is_not_taken_over_and_a_stale_one_is(network, make):
    donor, gift = make
    for i in range(3):
        gift(donor(f"B{i}"))
    run = StatementRun.objects.create(network=network, year=LAST_YEAR)

    # given a worker holding the run, its heartbeat fresh
    assert claim(run, "worker-a")

    # when another worker (the sweep's task, a click on "Resume") tries to take it
    # then it cannot, and leaves the run alone
    assert not claim(StatementRun.objects.get(pk=run.pk), "worker-b")
    assert carry_out(StatementRun.objects.get(pk=run.pk), worker="worker-b") is None
    assert not Receipt.objects.exists()

    # when the holder stops beating for longer than CLAIM_STALE_AFTER
    stale = timezone.now() - datetime.timedelta(seconds=121)
    StatementRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)

    # then the other takes it over and finishes it; the first, should it wake up, has lost it
    assert carry_out(StatementRun.objects.get(pk=run.pk), worker="worker-b") == "done"
    run.refresh_from_db()
    assert (run.status, run.claimed_by, run.attempts) == (StatementRun.Status.DONE, "", 2)
    assert Receipt.objects.count() == 3


def test_a_run_works_within_its_time_limit_then_hands_over(network, make, settings):
    donor, gift = make
    for i in range(12):
        gift(donor(f"T{i}"))
    run = StatementRun.objects.create(network=network, year=LAST_YEAR, send_email=False)

    # when a run may work no time at all: it stops after its first progress report
    assert carry_out(run, seconds=0) == "more"
    run.refresh_from_db()
    assert run.status == StatementRun.Status.RUNNING and run.claimed_by == ""
    assert Receipt.objects.count() == 10  # PROGRESS_EVERY

    # then the next slice goes on where it stopped
    assert carry_out(StatementRun.objects.get(pk=run.pk), seconds=0) == "done"
    assert Receipt.objects.count() == 12
