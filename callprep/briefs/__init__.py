"""The pre-call brief: sections, revisions, rendering and the editor.

Models live in callprep/briefs/models.py with ``app_label = "callprep"``; callprep/models.py
imports them so Django's app registry finds them.
"""
