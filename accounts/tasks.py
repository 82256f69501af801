from celery import shared_task

from accounts import importing, mail, signin, throttle


@shared_task
def prune_login_throttles() -> int:
    return throttle.prune()


@shared_task(**mail.SEND_TASK_OPTIONS)
def send_password_reset(email: str) -> None:
    """Send a password reset link; retried with backoff while the mail server is down."""
    signin.send_reset_mail(email)


@shared_task(soft_time_limit=1800, time_limit=1900)
def import_upload(import_file_id: int) -> bool:
    """Import a CSV upload the user confirmed; running it twice imports it once."""
    return importing.run_queued_import(import_file_id)
