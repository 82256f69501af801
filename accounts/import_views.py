"""CSV import: upload, then a preview with the column mapping, then the import itself."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts import importing, ratelimit
from accounts.access import require_account_creator
from accounts.forms import ImportUploadForm
from accounts.models import ImportFile, Team


class MappingForm(forms.Form):
    """One "maps to" choice per column, the team for new accounts, and how to import."""

    valid_only = forms.BooleanField(
        label="Import valid rows only (skip the rows with errors)", required=False
    )

    def __init__(self, *args, header, initial_mapping, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.header = header
        choices = [("", "— ignore —"), *importing.TARGETS.items()]
        for index, column in enumerate(header):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=column or f"Column {index + 1}",
                choices=choices,
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
        return [self[f"col_{i}"] for i in range(len(self.header))]

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"col_{i}", "") for i in range(len(self.header))]

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
            if upload.size > importing.MAX_BYTES:
                raise importing.ImportProblem(
                    "The file is larger than 5 MB. Split it and import the parts."
                )
            text, encoding = importing.decode(upload.read())
            importing.read_rows(text)
        except importing.ImportProblem as exc:
            form.add_error("file", str(exc))
        else:
            stored = importing.keep_upload(
                request.user, filename=upload.name, encoding=encoding, text=text
            )
            return redirect("accounts:import_preview", pk=stored.pk)
    return render(request, "accounts/import_upload.html", {"form": form}, status=200)


@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    require_account_creator(request.user)
    stored = get_object_or_404(ImportFile, pk=pk, user=request.user)
    header, rows = importing.read_rows(stored.content)
    form = MappingForm(
        request.POST or None,
        header=header,
        initial_mapping=importing.auto_mapping(header),
        user=request.user,
    )
    if request.method == "POST":
        if not form.is_valid():
            return render_preview(request, stored, form, report=None, rows=rows)
        commit = request.POST.get("action") == "import"
        options = {"user": request.user, "team": form.cleaned_data.get("team")}
        options["valid_only"] = form.cleaned_data["valid_only"]
        if commit:
            report = importing.import_file(stored, rows, form.mapping(), **options)
        else:
            report = importing.run_import(rows, form.mapping(), commit=False, **options)
        if report.committed:
            skipped = len(report.failed)
            messages.success(
                request,
                f"Imported {stored.filename}: {report.created} account(s) created, "
                f"{report.updated} updated, {report.contacts} contact(s) saved"
                + (f"; {skipped} row(s) with errors skipped." if skipped else "."),
            )
            return redirect("accounts:list")
        if commit:
            messages.error(
                request,
                f"Nothing was imported: {len(report.failed)} row(s) have errors. Fix the file, "
                "change the mapping, or choose “Import valid rows only”.",
            )
        return render_preview(request, stored, form, report=report, rows=rows)
    mapping = importing.auto_mapping(header)
    problems = importing.check_mapping(mapping)
    report = None
    if not problems:
        report = importing.run_import(rows, mapping, user=request.user, team=None, commit=False)
    return render_preview(request, stored, form, report=report, rows=rows, problems=problems)


def render_preview(request, stored, form, *, report, rows, problems=()) -> HttpResponse:
    shown = report.rows[: importing.PREVIEW_ROWS] if report else []
    failed = report.failed if report else []
    context = {
        "stored": stored,
        "form": form,
        "report": report,
        "shown": shown,
        "failed_hidden": [r for r in failed if r.number - 2 >= importing.PREVIEW_ROWS][:100],
        "total_rows": len(rows),
        "targets": importing.TARGETS,
        "problems": problems,
    }
    return render(request, "accounts/import_preview.html", context)
