"""The statistics pages: /stats/ for staff (every figure, signed in to the admin with the
view_figures permission) and /stats/public/ for everyone (the aggregate figures, no agency
or provider named, small counts suppressed); each table also as CSV."""

import csv
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.functional import Promise
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from routing.figures import figures_refreshed_at
from routing.forms import FiguresForm
from routing.selectors import country_names
from routing.statistics import (
    REGIONS,
    Table,
    figure_years,
    public_table,
    public_tables,
    region_snapshot,
    staff_tables,
)
from routing.tasks import enqueue_figures_refresh_if_stale
from routing.templatetags.figures import cell_text
from routing.views import spreadsheet_safe

View = Callable[..., HttpResponse]


def staff_only(view: View) -> View:
    """The admin's sign-in (password and authenticator code), then the view_figures
    permission: analysts and supervisors."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("routing.view_figures"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return admin.site.admin_view(wrapper)


def figures(request: HttpRequest, *, public: bool) -> tuple[FiguresForm, list[Table]]:
    """The form read from the query string and the tables it asks for (none if it is not
    valid), the region snapshot last."""
    enqueue_figures_refresh_if_stale()
    names = country_names(translation.get_language() or "en")
    form = FiguresForm(request.GET, country_names=names)
    if not form.is_valid():
        return form, []
    filters = form.filters()
    threshold = settings.PUBLIC_FIGURES_MIN_COUNT
    if public:
        tables = public_tables(filters, names=names, threshold=threshold)
    else:
        tables = staff_tables(filters, names=names)
    chosen = form.cleaned_data["region"]
    region_name: Promise | str
    region_name, countries = REGIONS["EU"]
    if chosen:
        region_name, countries = ", ".join(names.get(code, code) for code in chosen), chosen
    snapshot = region_snapshot(
        region=region_name, countries=countries, years=form.snapshot_years(figure_years())
    )
    tables.append(public_table(snapshot, threshold=threshold) if public else snapshot)
    return form, tables


def figures_page(request: HttpRequest, *, public: bool) -> HttpResponse:
    form, tables = figures(request, public=public)
    return render(
        request,
        "figures/public.html" if public else "figures/staff.html",
        {
            "form": form,
            "tables": tables,
            "refreshed_at": figures_refreshed_at(),
            "threshold": settings.PUBLIC_FIGURES_MIN_COUNT if public else None,
            "query": request.GET.urlencode(),
            **({} if public else admin.site.each_context(request)),
        },
        status=200 if form.is_valid() else 400,
    )


def figures_csv(request: HttpRequest, slug: str, *, public: bool) -> HttpResponse:
    form, tables = figures(request, public=public)
    if not form.is_valid():
        return figures_page(request, public=public)
    table = next((table for table in tables if table.slug == slug), None)
    if table is None:
        raise Http404
    threshold = settings.PUBLIC_FIGURES_MIN_COUNT if public else None
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}.csv"'
    writer = csv.writer(response)
    writer.writerow([spreadsheet_safe(column) for column in table.columns])
    for row in table.rows:
        writer.writerow(
            [
                spreadsheet_safe(cell_text(table, column, value, threshold=threshold, for_csv=True))
                for column, value in enumerate(row)
            ]
        )
    return response


@never_cache
@require_GET
@staff_only
def staff_figures(request: HttpRequest) -> HttpResponse:
    return figures_page(request, public=False)


@never_cache
@require_GET
@staff_only
def staff_figures_csv(request: HttpRequest, slug: str) -> HttpResponse:
    return figures_csv(request, slug, public=False)


@require_GET
def public_figures(request: HttpRequest) -> HttpResponse:
    return figures_page(request, public=True)


@require_GET
def public_figures_csv(request: HttpRequest, slug: str) -> HttpResponse:
    return figures_csv(request, slug, public=True)
