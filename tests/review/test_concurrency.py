"""Two reviewers approve at the same moment, each on its own database connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from callprep import workflow
from callprep.briefs.models import Brief, BriefStatus
from callprep.review.models import Approval, BriefTransition
from tests.review.conftest import YES

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_approvals_record_exactly_one(request, alice, victor, ada):
    brief = request.getfixturevalue("complete_brief")
    workflow.submit_brief(brief, by=alice)
    # Two who may review it: the executive joining the call, and an admin (who reviews any).
    assert brief.may_review(victor) and brief.may_review(ada)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def approve(user):
        try:
            mine = Brief.objects.get(pk=brief.pk)
            barrier.wait(timeout=10)
            workflow.approve_brief(mine, by=user, answers=YES)
            results.append("approved")
        except workflow.WorkflowError as exc:
            results.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (victor, ada)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(results) == ["This brief cannot be approved: it is approved.", "approved"]
    assert Approval.objects.filter(brief=brief).count() == 1
    assert BriefTransition.objects.filter(brief=brief, action="approve").count() == 1
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.APPROVED
