"""The dates the rules set, from the day the 5 per mille was received (permille.rules)."""

import datetime

from permille import rules


def test_the_rendiconto_is_due_one_year_after_the_money_arrived():
    # Given 19.999,99 euro received on 15 October 2025, below the threshold
    due = rules.deadlines(datetime.date(2025, 10, 15), 1_999_999)
    # Then the rendiconto is due on 15 October 2026, and nothing is due to the Ministry
    assert due.report_by == datetime.date(2026, 10, 15)
    assert (due.send_by, due.publish_by, due.notify_by) == (None, None, None)
    assert not rules.must_send_and_publish(1_999_999)


def test_from_20000_euro_it_is_sent_within_30_days_and_published_within_30_more():
    # Given exactly 20.000,00 euro ("pari o superiore")
    due = rules.deadlines(datetime.date(2025, 10, 15), 2_000_000)
    assert rules.must_send_and_publish(2_000_000)
    assert due.send_by == datetime.date(2026, 11, 14)
    assert due.publish_by == datetime.date(2026, 12, 14)
    assert due.notify_by == datetime.date(2026, 12, 21)


def test_money_received_on_29_february_is_due_on_28_february():
    due = rules.deadlines(datetime.date(2024, 2, 29), 100)
    assert due.report_by == datetime.date(2025, 2, 28)
