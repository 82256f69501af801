"""The errors of the brief's domain, with a message a user can read.

A leaf module: it imports nothing from the project, so models, services, the workflow and
views can all import it without an import cycle.
"""

from __future__ import annotations


class BriefError(Exception):
    """A change to a brief that cannot be made; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WorkflowError(BriefError):
    """A transition that cannot be made; the message says why, for the user."""
