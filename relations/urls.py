"""The public address of the calendar feed (a secret token, no login)."""

from django.urls import path

from . import ical

app_name = "relations"
urlpatterns = [path("calendar/<str:token>.ics", ical.feed, name="calendar_feed")]
