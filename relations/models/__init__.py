"""Relationship fundraising's records (money stays in `crm`: a pledge is never money)."""

from .calls import CalendarFeed, Call, CallDocument, Reminder, Report
from .orgs import Interaction, Organisation, Relationship, Task
from .pipeline import Instalment, Opportunity, Pledge, YearTarget

__all__ = [
    "CalendarFeed",
    "Call",
    "CallDocument",
    "Instalment",
    "Interaction",
    "Opportunity",
    "Organisation",
    "Pledge",
    "Relationship",
    "Reminder",
    "Report",
    "Task",
    "YearTarget",
]
