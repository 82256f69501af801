from django.apps import AppConfig


class LoadtestConfig(AppConfig):
    """Load data, the load test's seed and the benchmarks, as management commands.

    Not a product app: salesprep/settings.py does not install it; loadtest/settings.py (and the
    test settings, which test these commands) do.
    """

    name = "loadtest"
    verbose_name = "Load test and benchmarks"
