"""The search results page: ``/search/?q=``, a plain GET (the navigation's search box)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from callprep import search


@require_http_methods(["GET", "HEAD"])
def search_page(request: HttpRequest) -> HttpResponse:
    results = search.search(request.user, request.GET.get("q", ""))
    context = {"results": results, "max_length": search.MAX_QUERY_LENGTH}
    return render(request, "search.html", context, status=200)
