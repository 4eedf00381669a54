"""Error reporting to Sentry (or a Sentry-compatible service) when SENTRY_DSN is set."""

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration


def start_sentry(settings):
    """Errors and unhandled exceptions of every process (web, workers, scheduler) go to Sentry.
    No personal data: donors' addresses, names and cookies stay here (send_default_pii off,
    no request bodies, no stack frames' variables: they hold donors, sessions, query
    parameters)."""
    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.SENTRY_ENVIRONMENT,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
    )
