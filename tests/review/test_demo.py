"""The demo seed puts briefs in review states and gives ``vp`` a queue and notifications."""

from __future__ import annotations

import pytest

from callprep.briefs.models import Brief
from callprep.review.models import Notification

pytestmark = pytest.mark.django_db


def test_the_review_demo_seed_is_idempotent_and_fills_vp_s_queue():
    from callprep.demo import content, load
    from callprep.models import Call

    users = load.seed(evidence=False)  # walks the planned briefs through the workflow
    data = content.read()
    calls = [(spec, Call.objects.get(ical_uid=spec.uid)) for spec in data.calls]
    assert load.seed_reviews(data, calls) == {}  # a second run changes nothing
    vp = users["vp"]
    assert Brief.objects.reviewable_by(vp).in_review_queue().exists()
    assert Notification.objects.filter(recipient=vp).exists()
