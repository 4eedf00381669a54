"""The verbs: a call becomes an ask, an ask a pledge with its schedule, a gift pays an
instalment (checked), the pipeline's figures, what is due and late."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from crm.models import Donation
from crm.offline import record_offline_gift
from relations import figures, verbs
from relations.models import Call, Instalment, Opportunity, YearTarget

TODAY = datetime.date.today()


def _gift(network, donor, cents, on=None):
    return record_offline_gift(
        network=network,
        donor=donor,
        amount_cents=cents,
        received_on=on or TODAY,
        method=Donation.Method.BANK_TRANSFER,
        confirm=False,
        auto_receipt=False,
    )


@pytest.fixture
def pledged(rel):
    a = rel["a"]
    opportunity = verbs.opportunity_from_call(a["call"])
    promise = verbs.pledge(
        opportunity, amount_cents=1_000_000, instalments=3, first_due_on=TODAY, every_months=4
    )
    return a, opportunity, promise


def test_a_call_becomes_an_ask_to_its_funder(rel):
    call = rel["a"]["call"]
    opportunity = verbs.opportunity_from_call(call)
    assert opportunity.organisation == call.funder
    assert opportunity.amount_cents == 3_000_000 and opportunity.expected_on == call.deadline
    assert opportunity.owner == call.owner and opportunity.network == call.network
    call.refresh_from_db()
    assert call.status == Call.Status.PREPARING


def test_a_pledge_splits_into_instalments_adding_up_exactly(pledged):
    _a, opportunity, promise = pledged
    rows = list(promise.instalments.order_by("number"))
    assert [r.amount_cents for r in rows] == [333_333, 333_333, 333_334]
    assert sum(r.amount_cents for r in rows) == 1_000_000
    assert [r.due_on for r in rows] == [
        TODAY,
        verbs.add_months(TODAY, 4),
        verbs.add_months(TODAY, 8),
    ]
    opportunity.refresh_from_db()
    assert opportunity.stage == Opportunity.Stage.PLEDGED
    with pytest.raises(ValidationError):
        verbs.pledge(opportunity, amount_cents=10, instalments=1, first_due_on=TODAY)


@pytest.mark.parametrize("count", [0, 61])
def test_a_schedule_out_of_bounds_is_refused(rel, count):
    opportunity = verbs.opportunity_from_call(rel["a"]["call"])
    with pytest.raises(ValidationError):
        verbs.pledge(opportunity, amount_cents=1000, instalments=count, first_due_on=TODAY)
    assert not Instalment.objects.exists()


def test_months_end_on_the_last_day():
    assert verbs.add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert verbs.add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)


def test_a_gift_pays_its_instalment_once_and_the_rest_stays_due(pledged):
    a, opportunity, promise = pledged
    first, second, third = promise.instalments.order_by("number")
    gift = _gift(opportunity.network, a["donor"], 333_333)
    verbs.link_payment(first, gift)
    verbs.link_payment(first, gift)  # the same request twice: done once
    first.refresh_from_db()
    assert first.donation == gift
    late, due = figures.due_and_late([opportunity.network], TODAY)
    assert [i.pk for i in late + due] == [second.pk, third.pk]
    with pytest.raises(ValidationError):
        verbs.link_payment(second, gift)  # one gift pays one instalment
    assert verbs.candidate_gifts(second).count() == 0


def test_what_cannot_pay_an_instalment(pledged, rel):
    a, opportunity, promise = pledged
    first = promise.instalments.get(number=1)
    wrong_amount = _gift(opportunity.network, a["donor"], 333_000)
    employee_gift = _gift(opportunity.network, a["employee"], 333_333)
    other_network = _gift(rel["b"]["donor"].network, rel["b"]["donor"], 333_333)
    pending = Donation.objects.create(
        network=opportunity.network, donor=a["donor"], amount_cents=333_333
    )
    for gift in (wrong_amount, employee_gift, other_network, pending):
        with pytest.raises(ValidationError):
            verbs.link_payment(first, gift)
    first.refresh_from_db()
    assert first.donation is None


def test_every_instalment_paid_makes_the_ask_received(pledged):
    a, opportunity, promise = pledged
    for instalment in promise.instalments.all():
        verbs.link_payment(
            instalment, _gift(opportunity.network, a["donor"], instalment.amount_cents)
        )
    opportunity.refresh_from_db()
    assert opportunity.stage == Opportunity.Stage.RECEIVED


def test_late_instalments_are_those_due_before_today(pledged):
    _a, opportunity, promise = pledged
    late, due = figures.due_and_late([opportunity.network], verbs.add_months(TODAY, 5))
    assert [i.number for i in late] == [1, 2] and [i.number for i in due] == [3]


def test_the_pipeline_weighs_each_ask_and_leaves_lost_ones_out(rel, demo):
    network = demo["oltre-il-ponte"]
    year = TODAY.year
    for stage, amount, probability in (
        ("idea", 100_000, 10),
        ("asked", 200_001, 50),
        ("asked", 1, 50),
        ("lost", 500_000, 90),
    ):
        Opportunity.objects.create(
            network=network,
            title=stage,
            stage=stage,
            amount_cents=amount,
            probability=probability,
            expected_on=datetime.date(year, 6, 1),
        )
    Opportunity.objects.create(
        network=network,
        title="next year",
        amount_cents=9,
        probability=100,
        expected_on=datetime.date(year + 1, 1, 1),
    )
    YearTarget.objects.create(network=network, year=year, amount_cents=220_000)
    result = figures.pipeline([network], year)
    stages = {row[0]: row for row in result.stages}
    assert stages["asked"][2:] == (2, 200_002, 100_001)
    assert stages["lost"][2:] == (1, 500_000, 0)
    # 10% of 1.000 + 50% of 2.000,01 + 50% of 0,01: 1.100,01 exactly, summed before rounding
    assert result.forecast == 110_001
    assert result.target == 220_000 and result.percent_of_target == 50
    other = figures.pipeline([demo["valle-serena"]], year)
    assert other.forecast == 0 and other.target == 0
