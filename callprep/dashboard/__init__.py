"""Prep-readiness dashboards for managers: who prepared, how well, how early.

metrics.py holds every definition (one Q per measure, reused by the aggregates and by the
drill-down lists, so a number and the list behind it cannot disagree); access.py scopes by
role and team; charts.py draws server-side SVG; views.py is thin.
"""
