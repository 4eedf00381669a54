"""The shared cache, the page cache, and the giving limits that count in it."""

from .env import env_int, env_str

# --- Cache --------------------------------------------------------------------------------------
# Shared by every process (web workers, task worker): the checkout rate limits must count once
# and an invalidated campaign total must be gone for all. The database by default (no extra
# service; `migrate` creates the table, crm/migrations/0005), Redis when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")  # e.g. redis://127.0.0.1:6379/0
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "ops.cache.RedisCache",  # Django's, one client per pool
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "trama",  # the Redis may be shared with other applications
            # Seconds to connect and for each answer: a hanging Redis fails a request clearly
            # instead of holding it (redis-py waits forever by default).
            "OPTIONS": {
                "socket_connect_timeout": env_int("REDIS_TIMEOUT", 2),
                "socket_timeout": env_int("REDIS_TIMEOUT", 2),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "trama_cache",
            # Beyond MAX_ENTRIES every write deletes a third of the rows, rate-limit counters
            # included: 300 (Django's default) is too few under a card-testing run.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }
# Rendered page fragments are keyed by the page's published revision and language, so they never
# go stale: each process keeps its own, and a warm campaign page asks the shared cache only for
# its totals (one query with the database cache, instead of four).
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
}
# Wagtail looks up each image rendition in the "renditions" cache and sets it again on a miss:
# in each process's memory (renditions never change once made), not a shared-cache write (a
# database write transaction with the database cache) on a page view.
CACHES["renditions"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "renditions",
    "OPTIONS": {"MAX_ENTRIES": 5000},
}
# Whole public pages for anonymous visitors, from the shared cache above (cms.pagecache):
# seconds an entry lives (0: off; publishing, unpublishing, moving or deleting a page drops
# them all anyway), and the Cache-Control given to browsers (max-age) and to a CDN or front
# cache (s-maxage). Raise PAGE_CACHE_CDN_SECONDS only with a purge on publish configured
# (wagtail.contrib.frontend_cache, WAGTAILFRONTENDCACHE).
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 120)
PAGE_CACHE_MAX_AGE = env_int("PAGE_CACHE_MAX_AGE", 60)
PAGE_CACHE_CDN_SECONDS = env_int("PAGE_CACHE_CDN_SECONDS", PAGE_CACHE_MAX_AGE)
# Seconds browsers and a CDN may keep a campaign's live figures (campaigns.views.live_figures);
# pages refresh them every LIVE_FIGURES_REFRESH seconds.
LIVE_FIGURES_MAX_AGE = env_int("LIVE_FIGURES_MAX_AGE", 5)
LIVE_FIGURES_REFRESH = env_int("LIVE_FIGURES_REFRESH", 10)

# --- Giving: card-testing limits and an optional challenge (campaigns.ratelimit) ---------------
# Checkout starts allowed per sliding window of GIVING_LIMIT_WINDOW seconds: per client address
# (generous: a charity dinner on shared Wi-Fi), per normalised email (tight: card testers reuse
# one), per campaign (many addresses and emails on one campaign).
_GIVING_WINDOW = env_int("GIVING_LIMIT_WINDOW", 3600)
GIVING_RATE_LIMITS = {
    "ip": (env_int("GIVING_LIMIT_PER_ADDRESS", 60), _GIVING_WINDOW),
    "email": (env_int("GIVING_LIMIT_PER_EMAIL", 5), _GIVING_WINDOW),
    "campaign": (env_int("GIVING_LIMIT_PER_CAMPAIGN", 600), _GIVING_WINDOW),
}
# Past the campaign's threshold, every start must pass a challenge instead of being refused: the
# dotted path of a challenge class (campaigns.challenge); empty: the built-in proof of work, of
# GIVING_CHALLENGE_DIFFICULTY bits (about 2^bits hashes in the donor's browser).
GIVING_CHALLENGE = env_str("GIVING_CHALLENGE", "")
GIVING_CHALLENGE_DIFFICULTY = env_int("GIVING_CHALLENGE_DIFFICULTY", 16)
