"""The load test: locustfile.py (the users), run.py (the stack and the verdict)."""
