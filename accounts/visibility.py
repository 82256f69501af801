"""Who may see what: the one visibility rule, rooted in the customer account.

- **Everything**: holders of the ``view_all_teams`` permission (the Admin and Sales leader
  roles, and superusers).
- **Accounts**: a rep's own accounts and their teams' accounts; a manager's teams' accounts;
  and the account of any call the user attends (as its rep or as the executive joining it).
- **Calls and briefs**: the calls on accounts the user reaches through their teams (or owns),
  and the calls they attend. An executive's reach through a call they join stops at that call:
  they read its brief, its account, the account's stakeholders and evidence — not the
  account's other calls and briefs.
- **Stakeholders, evidence**: follow their account. **Comments**: follow their brief.

Each rule is a ``Q`` (for querysets: ``Account.objects.visible_to(user)`` and its siblings
call these) and, where a view needs it on one object, a function beside it. Outsiders get
404 from the access helpers built on these.
"""

from __future__ import annotations

from django.db.models import Q

NOTHING = Q(pk__in=[])


def is_active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def sees_all_teams(user) -> bool:
    """The ``view_all_teams`` permission: every team's data and the organisation's dashboard."""
    return is_active(user) and user.has_view_all_teams


def team_accounts_q(user) -> Q:
    """Accounts (``Q`` over Account) the user reaches through ownership and their teams."""
    from accounts.models import Team

    q = NOTHING
    if user.is_rep:
        q |= Q(owner=user) | Q(team__in=Team.objects.filter(members=user).values("pk"))
    if user.is_manager:
        q |= Q(team__in=Team.objects.filter(managers=user).values("pk"))
    return q


def attended_calls_q(user, prefix: str = "") -> Q:
    """Calls the user attends: as the rep who runs it or as the executive joining it."""
    return Q(**{f"{prefix}owner": user}) | Q(**{f"{prefix}executive": user})


def accounts_q(user) -> Q:
    """Accounts (``Q`` over Account) the user may read."""
    from callprep.models import Call

    if not is_active(user):
        return NOTHING
    if sees_all_teams(user):
        return Q()
    attended = Call.objects.filter(attended_calls_q(user)).values("account_id")
    return team_accounts_q(user) | Q(pk__in=attended)


def calls_q(user, prefix: str = "") -> Q:
    """Calls the user may read (``Q`` over Call, or over a model reaching it by ``prefix``)."""
    from accounts.models import Account

    if not is_active(user):
        return NOTHING
    if sees_all_teams(user):
        return Q()
    teams = Account.objects.filter(team_accounts_q(user)).values("pk")
    return Q(**{f"{prefix}account__in": teams}) | attended_calls_q(user, prefix)


def briefs_q(user) -> Q:
    """Briefs (``Q`` over Brief) the user may read: those of the calls they may read."""
    return calls_q(user, prefix="call__")


def via_account_q(user, field: str = "account") -> Q:
    """Rows that belong to an account (stakeholders, evidence): their account's rule."""
    from accounts.models import Account

    if not is_active(user):
        return NOTHING
    if sees_all_teams(user):
        return Q()
    return Q(**{f"{field}__in": Account.objects.filter(accounts_q(user)).values("pk")})


def via_brief_q(user, field: str = "brief") -> Q:
    """Rows that belong to a brief (comments, citations): their brief's rule."""
    return calls_q(user, prefix=f"{field}__call__")


# --- Writing ---------------------------------------------------------------------------------


def is_admin(user) -> bool:
    return is_active(user) and user.is_admin_role


def editable_calls_q(user, prefix: str = "") -> Q:
    """Calls the user may change: a rep's own calls and the calls on accounts they own;
    admins: all."""
    if not is_active(user):
        return NOTHING
    if user.is_admin_role:
        return Q()
    if user.is_rep:
        return Q(**{f"{prefix}owner": user}) | Q(**{f"{prefix}account__owner": user})
    return NOTHING


def editable_briefs_q(user) -> Q:
    return editable_calls_q(user, prefix="call__")


def may_edit_call(call, user) -> bool:
    if not is_active(user):
        return False
    if user.is_admin_role:
        return True
    return user.is_rep and user.pk in (call.owner_id, call.account.owner_id)


# --- Reviewing ---------------------------------------------------------------------------------


def reviewer_q(user) -> Q:
    """Briefs (``Q`` over Brief) the user reviews: as the executive joining the call; for a
    call with no executive named, as a manager of the account's team; admins review every
    brief. Never a brief of one's own call or that one started."""
    from accounts.models import Team

    if not is_active(user):
        return NOTHING
    if user.is_admin_role:
        q = Q()
    else:
        q = Q(call__executive=user)
        if user.is_manager:
            managed = Team.objects.filter(managers=user).values("pk")
            q |= Q(call__executive__isnull=True, call__account__team__in=managed)
    return q & ~Q(call__owner=user) & ~Q(created_by=user)


def may_review(brief, user) -> bool:
    """``reviewer_q`` on one brief (its call and account loaded)."""
    if not is_active(user):
        return False
    call = brief.call
    if user.pk in (call.owner_id, brief.created_by_id):
        return False
    if user.is_admin_role or call.executive_id == user.pk:
        return True
    if call.executive_id is None and user.is_manager and call.account.team_id is not None:
        return user.managed_teams.filter(pk=call.account.team_id).exists()
    return False


def may_mark_briefed(call, user) -> bool:
    """Only the executive named on the call marks its brief as briefed (the dashboard's
    "executive read" counts that executive's read)."""
    return is_active(user) and call.executive_id == user.pk


def may_review_anything(user) -> bool:
    """Whether the user has a review queue at all (executives, managers, admins)."""
    return is_active(user) and (user.is_executive or user.is_manager or user.is_admin_role)
