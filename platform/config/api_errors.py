"""API errors as one JSON shape: {"errors": {field: [messages]}} with the right status code.

DRF's own errors pass through `exception_handler`. What fails outside DRF under /api/ (an
address no endpoint answers, an unhandled exception, a request Django itself refuses) gets the
same shape from the error handlers both URL trees name; pages keep their HTML error pages."""

import sys

from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from .service_problem import caused_by_outage, service_problem

API_PREFIX = "/api/"


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        response.data = {"errors": {"__all__": [str(data["detail"])]}}
    elif isinstance(data, dict):
        response.data = {"errors": data}
    else:
        response.data = {"errors": {"__all__": data}}
    return response


def error_response(status: int, message) -> JsonResponse:
    return JsonResponse({"errors": {"__all__": [str(message)]}}, status=status)


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


# DRF's messages for the same statuses, so that a caller sees one wording whoever answered.

def bad_request(request, exception):
    # The session could not be saved because the database went away mid-request (Django calls
    # that SessionInterrupted, a 400): the visitor did nothing wrong.
    if caused_by_outage(exception):
        return service_problem(request)
    if _is_api(request):
        return error_response(400, exceptions.ParseError.default_detail)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return error_response(403, exceptions.PermissionDenied.default_detail)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return error_response(404, exceptions.NotFound.default_detail)
    return defaults.page_not_found(request, exception)


def server_error(request):
    # Called while the exception is being handled: an outage gets the "try again" page.
    if caused_by_outage(sys.exc_info()[1]):
        return service_problem(request)
    if _is_api(request):
        return error_response(500, exceptions.APIException.default_detail)
    return defaults.server_error(request)
