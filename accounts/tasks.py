from celery import shared_task

from accounts import throttle


@shared_task
def prune_login_throttles() -> int:
    return throttle.prune()
