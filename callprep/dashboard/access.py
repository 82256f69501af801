"""The access helper for dashboards: who may see which teams' numbers.

Holders of the ``view_all_teams`` permission (Admin, Sales leader) see every team; managers
the teams they manage; a plain executive the calls they join; anyone else gets 403. A manager
naming another team (or a rep outside their teams) gets 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts import visibility
from accounts.models import Team, User
from callprep.dashboard.metrics import Scope


@dataclass(frozen=True)
class Viewer:
    """What one user may pick on the dashboard."""

    sees_everyone: bool
    teams: list[Team]
    # A plain executive: only the calls they join (no team filter to choose from).
    executive: int | None = None

    @property
    def team_ids(self) -> tuple[int, ...]:
        return tuple(t.pk for t in self.teams)


def viewer_for(user) -> Viewer:
    """Raises PermissionDenied (403) for users who have no dashboard."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    if visibility.sees_all_teams(user):
        return Viewer(sees_everyone=True, teams=list(Team.objects.order_by("name")))
    if user.is_manager:
        return Viewer(sees_everyone=False, teams=list(Team.objects.managed_by(user)))
    if user.is_executive:
        return Viewer(sees_everyone=False, teams=[], executive=user.pk)
    raise PermissionDenied("The prep dashboard is for managers, executives and admins.")


def reps_for(viewer: Viewer, team: Team | None) -> list[User]:
    """Members of the chosen team, or of every team the viewer sees."""
    reps = User.objects.filter(is_active=True)
    if viewer.executive is not None:
        from callprep.models import Call

        joined = Call.objects.filter(executive=viewer.executive).values("owner")
        return list(reps.filter(pk__in=joined).order_by("first_name", "last_name", "username"))
    if team is not None:
        reps = reps.filter(teams=team)
    elif not viewer.sees_everyone:
        reps = reps.filter(teams__in=viewer.team_ids)
    else:
        reps = reps.filter(teams__isnull=False)
    return list(reps.distinct().order_by("first_name", "last_name", "username"))


def scope_for(
    viewer: Viewer, *, team_id: int | None, rep_id: int | None, kind: str, start, end
) -> tuple[Scope, Team | None, list[User] | None]:
    """The scope of a dashboard request; 404 for a team or rep the viewer may not see.

    With a rep chosen, also the reps to choose from (one query, which checks the rep);
    without, None: the page lists the reps that have calls in the period instead.
    """
    team = None
    if team_id is not None:
        team = next((t for t in viewer.teams if t.pk == team_id), None)
        if team is None:
            raise Http404("No such team.")
    reps = None
    if rep_id is not None:
        reps = reps_for(viewer, team)
        if rep_id not in {r.pk for r in reps}:
            raise Http404("No such rep.")
    if team is not None:
        teams: tuple[int, ...] | None = (team.pk,)
    else:
        teams = None if viewer.sees_everyone or viewer.executive else viewer.team_ids
    scope = Scope(
        teams=teams, rep=rep_id, kind=kind, start=start, end=end, executive=viewer.executive
    )
    return scope, team, reps
