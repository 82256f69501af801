"""A hot ORM query compiled to SQL once per process and database, then run with new values.

The autosave loads one section with its brief, call and account on every save. The SQL runs in
well under a millisecond; building it through the ORM (filters, joins, the select list of four
models, converters) cost several times that on every request. ``CompiledQuery`` keeps what the
ORM builds for a query written the ordinary way — its SQL, the position of each parameter,
and how rows become model instances (the same steps as Django 6.1's ``ModelIterable``) — and
reuses it. The query itself stays an ORM queryset, so fields, joins and quoting come from the
models.

``build`` receives one placeholder value per parameter (``placeholders``); each must appear
exactly once among the compiled query's parameters, so that it can be replaced.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict[str, int]
    converters: list
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list
    fetch_mode: Any
    annotations: dict[str, int]


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet], **placeholders: Any) -> None:
        self.build = build
        self.placeholders = placeholders
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        queryset = self.build(**self.placeholders)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = {}
        for name, value in self.placeholders.items():
            found = [i for i, param in enumerate(params) if param == value]
            if len(found) != 1:
                raise ValueError(f"The placeholder for {name!r} is not one parameter of the query.")
            slots[name] = found[0]
        select, klass_info = compiler.select, compiler.klass_info
        fields = [column[0] for column in select[: compiler.col_count]]
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            converters=list(compiler.get_converters(fields).items()),
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, alias, queryset._fetch_mode),
            fetch_mode=queryset._fetch_mode,
            annotations=dict(compiler.annotation_col_map or {}),
        )

    def first(self, using: str = "default", **values: Any) -> Model | None:
        """The first row as a model instance with its ``select_related`` objects and its
        annotations, or None."""
        connection = connections[using]
        key = (using, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using)
        params = list(compiled.params)
        for name, slot in compiled.slots.items():
            params[slot] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        # Each value through its field's converters, as the compiler would, with this thread's
        # connection (the compiling one may belong to another thread).
        for position, (converters, expression) in compiled.converters:
            value = row[position]
            for convert in converters:
                value = convert(value, expression, connection)
            row[position] = value
        own = row[compiled.start : compiled.end]
        instance = compiled.model.from_db(
            using, compiled.init_list, own, fetch_mode=compiled.fetch_mode
        )
        if compiled.fetch_mode.track_peers:
            instance._state.peers = [weakref.ref(instance)]
        for populator in compiled.populators:
            populator.populate(row, instance)
        for name, position in compiled.annotations.items():
            setattr(instance, name, row[position])
        return instance
