"""The shared cache on Redis (settings.CACHES["default"] when REDIS_URL is set).

Django's Redis backend builds a new `redis.Redis` client object for every cache call (around
its shared connection pool); building one fills its table of ~170 response callbacks, which on
a page served from the cache (cms.pagecache) cost as much CPU as the Redis round trip itself.
This backend keeps one client per connection pool: a `redis.Redis` is safe to share between
threads (each command borrows a connection from the pool), and it holds nothing else.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _OneClientPerPool(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool
