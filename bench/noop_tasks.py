"""The pipeline benchmark's baseline: Celery tasks that do nothing but pass the message on,
in the message pattern of real routing (one routing message per report, whose task sends
one delivery message), with the same task options and queues. A worker imports them with
`--include bench.noop_tasks`.

The no-op delivery counts itself in Redis (one pipelined round trip: a counter and the
latest finish time), so the benchmark can tell when the last one is done."""

import time
from functools import cache

import redis
from celery import shared_task
from django.conf import settings

from routing.tasks import ROUTING_TASK, sweep_sends_it_if_the_broker_is_down


def done_key() -> str:
    return f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS['global_keyprefix']}bench-noop-done"


@cache
def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@shared_task(**ROUTING_TASK)
def noop_route(report_id: int) -> None:
    with sweep_sends_it_if_the_broker_is_down(f"delivery of {report_id}"):
        noop_deliver.apply_async((report_id, False), queue=settings.DELIVERY_QUEUE)


@shared_task(**ROUTING_TASK)
def noop_deliver(referral_id: int, urgent: bool = False) -> None:
    pipe = client().pipeline(transaction=False)
    pipe.incr(done_key())
    pipe.zadd(f"{done_key()}-last", {"last": time.time()}, gt=True)
    pipe.execute()


def enqueue_noop_routing(count: int) -> None:
    for number in range(count):
        noop_route.apply_async((number,), queue=settings.ROUTING_QUEUE)
