"""The demo seed puts briefs in review states and gives ``vp`` a queue and notifications."""

from __future__ import annotations

import pytest

from callprep.briefs.models import Brief
from callprep.review.models import Notification

pytestmark = pytest.mark.django_db


def test_the_review_demo_seed_is_idempotent_and_fills_vp_s_queue():
    from callprep import demo
    from callprep.models import Call
    from callprep.review.demo import seed_reviews

    users = demo.seed(evidence=False)  # walks the planned briefs through the workflow
    calls = list(Call.objects.all())
    assert seed_reviews(calls, plan=demo.DEMO_REVIEWS) == {}  # a second run changes nothing
    assert seed_reviews(calls) == {}
    vp = users["vp"]
    assert Brief.objects.reviewable_by(vp).in_review_queue().exists()
    assert Notification.objects.filter(recipient=vp).exists()
