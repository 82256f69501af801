"""Review of briefs: audit trail, approvals with the executive's sniff test, comments,
"briefed" marks, notifications and reminders. Transitions live in callprep/workflow.py."""
