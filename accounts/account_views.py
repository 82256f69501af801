"""Customer accounts and their stakeholders: list, detail, create, edit, inline stakeholders."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from accounts import services
from accounts.access import account_for, contact_for, require_account_creator
from accounts.forms import AccountFilterForm, AccountForm, BuyingProcessForm, ContactForm
from accounts.models import Account, BuyingProcess, Contact, stakeholder_groups
from accounts.params import filter_errors, valid_filters
from callprep.briefs.models import calls_with_brief
from callprep.briefs.rendering import safe_http_url
from callprep.models import Call, CallStatus


def is_partial(request: HttpRequest) -> bool:
    """An htmx request for a region (a history restore needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def annotate_for_list(accounts):
    """The per-row extras of the account list, as correlated subqueries.

    PostgreSQL evaluates them for the rows of the page only, so the list costs the same number
    of queries, and about the same time, for a page of 5 as for a page of 50.
    """
    contact_count = (
        Contact.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    next_call = (
        Call.objects.filter(
            account=OuterRef("pk"), status=CallStatus.SCHEDULED, starts_at__gte=timezone.now()
        )
        .order_by("starts_at")
        .values("starts_at")[:1]
    )
    return accounts.select_related("owner", "team").annotate(
        contact_count=Coalesce(Subquery(contact_count, output_field=IntegerField()), 0),
        next_call_at=Subquery(next_call),
    )


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def account_list(request: HttpRequest) -> HttpResponse:
    visible = Account.objects.visible_to(request.user)
    form = AccountFilterForm(request.GET)
    # A bad filter is ignored and named above the results; the valid ones still apply.
    filters = valid_filters(form)
    accounts, per_page = form.filter(visible), filters.get("per_page") or 25
    page = Paginator(annotate_for_list(accounts), per_page).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "filter_errors": filter_errors(form),
        "page": page,
        "sort": filters.get("sort") or "",
        "can_create": request.user.is_rep or request.user.is_admin_role,
    }
    if is_partial(request):
        return render(request, "accounts/account_list.html#results", context)
    context["selects"] = form.selects(visible, user=request.user)
    return render(request, "accounts/account_list.html", context)


@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    require_account_creator(request.user)
    account = Account(owner=request.user)
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    if request.method == "POST" and form.is_valid():
        account = services.save_account(form, by=request.user)
        messages.success(request, f"Account {account} created.")
        return redirect(account)
    return render(request, "accounts/account_form.html", {"form": form, "account": None})


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_for(request.user, pk)
    context = stakeholder_context(request, account)
    context["buying_process"] = BuyingProcess.objects.filter(account=account).first()
    # Only an http(s) address becomes a link, whatever a row holds (never a script link).
    context["website_link"] = safe_http_url(account.website)
    context["calls"] = calls_with_brief(
        Call.objects.visible_to(request.user)
        .filter(account=account)
        .select_related("owner", "executive")
        .order_by("-starts_at")
    )
    template = "accounts/account_detail.html"
    if is_partial(request):
        template += "#stakeholders"
    return render(request, template, context)


def stakeholder_context(request: HttpRequest, account: Account, **extra) -> dict:
    contacts = list(account.contacts.select_related("reports_to"))
    return {
        "account": account,
        "can_edit": account.is_editable_by(request.user),
        "groups": stakeholder_groups(contacts),
        "org_chart": account.org_chart(contacts),
        "contact_count": len(contacts),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_for(request.user, pk, write=True)
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.save_account(form, by=request.user)
        messages.success(request, "Account saved.")
        return redirect(account)
    return render(request, "accounts/account_form.html", {"form": form, "account": account})


@require_http_methods(["GET", "POST"])
def buying_process_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_for(request.user, pk, write=True)
    process = BuyingProcess.objects.filter(account=account).first() or BuyingProcess(
        account=account
    )
    form = BuyingProcessForm(request.POST or None, instance=process)
    if request.method == "POST" and form.is_valid():
        services.save_buying_process(form, by=request.user)
        messages.success(request, "Buying process saved.")
        return redirect(account.get_absolute_url() + "#buying-process")
    return render(request, "accounts/buying_process_form.html", {"form": form, "account": account})


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_for(request.user, pk, write=True)
    form = ContactForm(request.POST or None, account=account)
    return contact_form_response(request, account, form, contact=None)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = contact_for(request.user, pk, write=True)
    form = ContactForm(request.POST or None, instance=contact, account=contact.account)
    return contact_form_response(request, contact.account, form, contact=contact)


def contact_form_response(request, account, form, *, contact) -> HttpResponse:
    """Save a stakeholder form, answering htmx with regions and plain requests with pages.

    htmx: a valid form returns the refreshed stakeholder map; an invalid one returns the form
    with its errors, retargeted at the form itself. Without JavaScript: redirect or full page.
    """
    if request.method == "POST" and form.is_valid():
        saved = services.save_contact(form)
        verb = "updated" if contact else "added"
        if is_partial(request):
            context = stakeholder_context(request, account, flash=f"{saved.name} {verb}.")
            return render(request, "accounts/account_detail.html#stakeholders", context)
        messages.success(request, f"Stakeholder {saved.name} {verb}.")
        return redirect(account.get_absolute_url() + "#stakeholders")
    context = {"form": form, "account": account, "contact": contact, "inline": is_partial(request)}
    if is_partial(request):
        response = render(request, "accounts/contact_form.html#contact-form", context)
        if request.method == "POST":
            form_id = f"#contact-form-{contact.pk if contact else 'new'}"
            response = reswap(retarget(response, form_id), "outerHTML")
        return response
    return render(request, "accounts/contact_form.html", context)


@require_http_methods(["POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = contact_for(request.user, pk, write=True)
    account = contact.account
    services.remove_contact(contact)
    if is_partial(request):
        context = stakeholder_context(request, account, flash=f"{contact.name} removed.")
        return render(request, "accounts/account_detail.html#stakeholders", context)
    messages.success(request, f"Stakeholder {contact.name} removed.")
    return redirect(account.get_absolute_url() + "#stakeholders")
