"""The `MAILERS` entry for a mail backend, with a timeout on every network call it makes.

Django 6.1 passes a mailer's `OPTIONS` to its backend's constructor
(https://docs.djangoproject.com/en/6.1/howto/mailers-migration/; `EMAIL_TIMEOUT` and the other
`EMAIL_*` settings are deprecated and refused beside `MAILERS`). Each kind of backend names its
timeout differently:

- Django's SMTP backend: `timeout` (seconds, for connecting and for each reply), beside `host`,
  `port`, `username`, `password`, `use_tls`, `use_ssl` (`host` is required with `MAILERS`);
- anymail's HTTP backends (Brevo, Mailgun, Postmark, SendGrid, SparkPost, ...), all built on
  `anymail.backends.base_requests.AnymailRequestsBackend`: `timeout` (anymail's default is 30 s);
- anymail's Amazon SES backend (boto3): `client_params["config"]` with botocore's
  `connect_timeout` and `read_timeout`;
- console, locmem, file and anymail's test backend make no network call: no options.
"""

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
SES_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
NO_NETWORK = (
    "config.console_mail.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "anymail.backends.test.EmailBackend",
    "anymail.backends.console.EmailBackend",
)


def mailer(backend, *, timeout, smtp=None, ses_client_params=None):
    """A `MAILERS` entry for `backend` whose network calls give up after `timeout` seconds.
    `smtp`: the SMTP server's options (host, port, username, password, use_tls, use_ssl);
    `ses_client_params`: boto3 client parameters for Amazon SES (region, keys)."""
    if backend in NO_NETWORK:
        return {"BACKEND": backend}
    if backend == SMTP_BACKEND:
        return {"BACKEND": backend, "OPTIONS": {**(smtp or {}), "timeout": timeout}}
    if backend == SES_BACKEND:
        params = dict(ses_client_params or {})
        config = {**params.get("config", {}), "connect_timeout": timeout, "read_timeout": timeout}
        return {"BACKEND": backend, "OPTIONS": {"client_params": {**params, "config": config}}}
    # anymail's HTTP API backends (and any other taking `timeout`, as Django's SMTP one does).
    return {"BACKEND": backend, "OPTIONS": {"timeout": timeout}}
