"""Relationship fundraising: organisations and the people around them, asks in progress
(opportunities), pledges and grants paid in instalments, calls (bandi) and the reports owed
after an award, interactions and tasks (issue 24). An outer app: it reads `crm`, never the
other way round, and never counts money of its own (`relations.figures` asks `crm`)."""
