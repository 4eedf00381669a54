"""Fundraising communication: segments of a network's donors (and, later, messages to them)."""
