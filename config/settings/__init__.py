"""Trama settings, driven by environment variables: `DJANGO_SETTINGS_MODULE=config.settings`.

Every variable is read once, with its type and a safe development default; `.env.example`
lists them all. With `DEBUG` off, the secrets must be set or the process refuses to start.
One module per concern, each importing from the others the names it uses: `env` (the
helpers), `core` (apps, middleware, templates, database), `security` (sign-in, second factor,
HTTPS, CSP), `i18n` (languages, files and storage, Wagtail), `cache` (and the giving limits),
`tasks` (worker, scheduler, retention, messages), `mail`, `stripe` (which adds the stand-in to
the CSP), `logs` (logging and monitoring).
"""

from .cache import *  # noqa: F403
from .cache import _GIVING_WINDOW  # noqa: F401
from .core import *  # noqa: F403
from .env import *  # noqa: F403
from .i18n import *  # noqa: F403
from .logs import *  # noqa: F403
from .mail import *  # noqa: F403
from .security import *  # noqa: F403
from .stripe import *  # noqa: F403
from .tasks import *  # noqa: F403
