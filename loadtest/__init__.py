"""The load test and the benchmarks, kept out of the product's apps.

locustfile.py (the users) and run.py (the stack and the verdict) run the load test; the
management commands (generate_load_data, loadtest_seed, bench_*) exist only under
loadtest/settings.py, the one settings module that installs this app.
"""
