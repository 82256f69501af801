"""The demo data set: fictional people and customers for a first look at SalesPrep.

``data/`` holds the content (YAML and Markdown), ``content`` reads and checks it, ``load``
creates the rows (``load.seed()``, run by ``manage.py demo``). Only the ``demo`` command and
the tests import this package; the product never does.
"""
