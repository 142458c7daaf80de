import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from config.urls import handler404, handler500


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    """The floor: parse a JSON body and insert one row, with nothing else."""
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_row (body) VALUES (%s) RETURNING id", [json.dumps(body)])
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [path("bench/bare", bare_insert), path("", include("config.urls"))]

__all__ = ["handler404", "handler500", "urlpatterns"]
