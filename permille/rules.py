"""What the rules ask of a recipient of the 5 per mille, as dates and one threshold.

Sources (README, "5 per mille"; checked December 2026):
- D.Lgs. 3 luglio 2017 n. 111, art. 8 c. 1-2: the recipient draws up a rendiconto with an
  explanatory report (relazione illustrativa) within one year of receiving the money, sends it to
  the paying administration within the following thirty days, publishes it with the amount
  received on its website within thirty days, and tells the administration within seven days;
  late publication: a warning, then a fine of 25% of the contribution.
- DPCM 23 luglio 2020, art. 16: the rendiconto on the administration's model (c. 1: the
  Ministry of Labour adopted its models with D.D. n. 488 of 22 September 2021: Mod. A, the
  rendiconto; Mod. B, the rendiconto of the amount set aside).
- Linee guida (Allegato 1 al D.D. 488/2021; D.D. n. 396 of 13 December 2022 for the online
  platform, from anno finanziario 2021): only recipients of 20.000 euro or more send the
  rendiconto (through servizi.lavoro.gov.it) and must publish it, within 30 days of the sending
  deadline, telling the Ministry within the following 7 days; below that publication is optional
  and the rendiconto is sent only if the administration asks. Both are kept for 10 years.
"""

import datetime
from dataclasses import dataclass

#: "importo pari o superiore a 20.000 euro": sending and publication are due (cents).
THRESHOLD_CENTS = 20_000_00
#: The first anno finanziario of the 5 per mille: 2006 (the rendiconto rules published in G.U.
#: of 16 April 2009, art. 3, speak of the sums of anni finanziari 2006 to 2009).
FIRST_YEAR = 2006
SEND_WITHIN_DAYS = 30
PUBLISH_WITHIN_DAYS = 30
NOTIFY_WITHIN_DAYS = 7


def one_year_after(day: datetime.date) -> datetime.date:
    """The same day a year later; a 29 February received is due on 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def must_send_and_publish(amount_cents: int) -> bool:
    """Above the threshold (20.000 euro included) the rendiconto is sent and published."""
    return amount_cents >= THRESHOLD_CENTS


@dataclass(frozen=True)
class Deadlines:
    """The dates that follow from the day the money was received. `send_by`, `publish_by` and
    `notify_by` are None below the threshold (no obligation)."""

    report_by: datetime.date
    send_by: datetime.date | None
    publish_by: datetime.date | None
    notify_by: datetime.date | None


def deadlines(received_on: datetime.date, amount_cents: int) -> Deadlines:
    report_by = one_year_after(received_on)
    if not must_send_and_publish(amount_cents):
        return Deadlines(report_by, None, None, None)
    send_by = report_by + datetime.timedelta(days=SEND_WITHIN_DAYS)
    publish_by = send_by + datetime.timedelta(days=PUBLISH_WITHIN_DAYS)
    notify_by = publish_by + datetime.timedelta(days=NOTIFY_WITHIN_DAYS)
    return Deadlines(report_by, send_by, publish_by, notify_by)
