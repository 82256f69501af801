"""CSV import: upload, then a preview with the column mapping, then the import itself."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts import importing, ratelimit
from accounts.access import require_account_creator
from accounts.forms import ImportUploadForm
from accounts.models import LESS_SPECIFIC_CHOICES, ImportFile, ImportState, Team


class MappingForm(forms.Form):
    """One "maps to" choice per column, the team for new accounts, and how to import."""

    valid_only = forms.BooleanField(
        label="Import valid rows only (skip the rows with errors)", required=False
    )
    # One choice per kind of less specific value, as ImportFile keeps them (LESS_SPECIFIC_CHOICES).
    replace_with_broader_industry = forms.BooleanField(
        label="Replace more specific industries with the file's less specific ones",
        help_text="e.g. the sector 48-49 (Transportation) over 484121 (Long-distance trucking)",
        required=False,
    )
    clear_where_empty = forms.BooleanField(
        label="Clear values where the file's cell is empty", required=False
    )

    def __init__(self, *args, header, initial_mapping, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.header = header
        for index, column in enumerate(header):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=column or f"Column {index + 1}",
                choices=self.choices(),
                required=False,
                initial=initial_mapping[index],
            )
        teams = Team.objects.all() if user.is_admin_role else Team.objects.filter(members=user)
        self.fields["team"] = forms.ModelChoiceField(
            queryset=teams,
            required=False,
            label="Team for new accounts",
            empty_label="No team" if user.is_admin_role else None,
        )
        if len(teams) == 1:
            self.fields["team"].initial = teams[0].pk

    def columns(self):
        """(bound field, its chosen target) per column. The page writes the options itself:
        Django's widget templates take a quarter of a second for 200 columns of 23 choices."""
        return [(field, field.value() or "") for field in self.column_fields()]

    def column_fields(self):
        return [self[f"col_{i}"] for i in range(len(self.header))]

    def choices(self):
        return [("", "— ignore —"), *importing.TARGETS.items()]

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"col_{i}", "") for i in range(len(self.header))]

    def allow(self) -> frozenset[str]:
        """The kinds of less specific value the user lets replace more specific ones."""
        choices = LESS_SPECIFIC_CHOICES.items()
        return frozenset(kind for name, kind in choices if self.cleaned_data[name])

    def clean(self):
        cleaned = super().clean()
        for problem in importing.check_mapping(self.mapping()):
            self.add_error(None, problem)
        return cleaned


@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    require_account_creator(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        wait = ratelimit.hit("csv_import", request.user.pk)
        if wait:
            form.add_error(None, ratelimit.refusal("csv_import", wait))
            response = render(request, "accounts/import_upload.html", {"form": form})
            return ratelimit.too_many(response, wait)
        upload = form.cleaned_data["file"]
        try:
            importing.check_size(upload.size)
            text, encoding = importing.decode(upload.read())
            stored = importing.keep_upload(
                request.user, filename=upload.name, encoding=encoding, text=text
            )
        except importing.ImportProblem as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("accounts:import_preview", pk=stored.pk)
    return render(request, "accounts/import_upload.html", {"form": form}, status=200)


@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored dry run of an upload, a page at a time, with its mapping form. Posting the
    form rehearses the import again with the new mapping ("preview") or runs it ("import")."""
    require_account_creator(request.user)
    stored = get_object_or_404(ImportFile.objects.select_related("team"), pk=pk, user=request.user)
    try:
        importing.ensure_dry_run(stored, user=request.user)
        return preview_or_import(request, stored)
    except importing.DryRunUnderWay:  # another request is storing its dry run
        response = render(request, "accounts/import_preparing.html", {"stored": stored})
        response["Retry-After"] = "2"
        return response
    except importing.ImportProblem as exc:  # the limits were lowered since it was uploaded
        importing.drop_upload(stored)
        messages.error(request, f"{stored.filename} cannot be imported: {exc}")
        return redirect("accounts:import")


def preview_or_import(request: HttpRequest, stored: ImportFile) -> HttpResponse:
    if stored.state != ImportState.PREVIEW:
        return import_progress(request, stored)
    form = MappingForm(
        request.POST or None,
        header=stored.header,
        initial_mapping=stored.mapping or importing.auto_mapping(stored.header),
        user=request.user,
        initial={"valid_only": stored.valid_only}
        | {name: getattr(stored, name) for name in LESS_SPECIFIC_CHOICES}
        | ({"team": stored.team_id} if stored.team_id else {}),
    )
    if request.method == "POST":
        if not form.is_valid():
            return render_preview(request, stored, form, show_report=False)
        team, valid_only = form.cleaned_data.get("team"), form.cleaned_data["valid_only"]
        allow = form.allow()
        chosen = (form.mapping(), team.pk if team else None, valid_only, allow)
        kept = (stored.mapping, stored.team_id, stored.valid_only, stored.less_specific_allowed)
        if chosen != kept:
            _, rows = importing.read_rows(stored.content)
            importing.rehearse(
                stored,
                rows,
                form.mapping(),
                user=request.user,
                team=team,
                valid_only=valid_only,
                allow=allow,
            )
        if request.POST.get("action") != "import":
            return redirect("accounts:import_preview", pk=stored.pk)
        try:
            importing.queue_import(stored)
        except importing.ImportProblem as exc:
            messages.error(request, str(exc))
        else:
            return redirect("accounts:import_preview", pk=stored.pk)
    return render_preview(request, stored, form, show_report=True)


def import_progress(request: HttpRequest, stored: ImportFile) -> HttpResponse:
    """The import under way or done. Posting goes on with an import that stopped. The page
    polls itself with htmx while the worker imports, and has a Refresh link without it."""
    if request.method == "POST":
        try:
            importing.queue_import(stored)
        except importing.ImportProblem as exc:
            messages.error(request, str(exc))
        return redirect("accounts:import_preview", pk=stored.pk)
    if request.htmx and not request.htmx.history_restore_request:
        context = {
            "stored": stored,
            "stalled": stored.is_stalled(),
            "batch_rows": settings.CSV_IMPORT_BATCH_ROWS,
        }
        response = render(request, "accounts/import_preview.html#progress", context)
        if not stored.is_importing or context["stalled"]:
            response["HX-Refresh"] = "true"  # the whole page shows what happened
        return response
    return render_preview(request, stored, None, show_report=True)


def render_preview(request, stored, form, *, show_report: bool) -> HttpResponse:
    """The preview page: the mapping form and one page of the stored dry run (only the rows
    with errors when ?errors=1)."""
    errors_only = request.GET.get("errors") == "1"
    results = stored.results.all()
    if errors_only:
        results = results.exclude(errors=[])
    report = stored if show_report and not stored.mapping_problems else None
    page = None
    if report is not None:
        page = Paginator(results, importing.PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "stored": stored,
        "form": form,
        "batch_rows": settings.CSV_IMPORT_BATCH_ROWS,
        "stalled": stored.is_stalled(),
        "report": report,
        "page": page,
        "errors_only": errors_only,
        "total_rows": stored.row_count,
        "problems": stored.mapping_problems if show_report else (),
    }
    return render(request, "accounts/import_preview.html", context)
