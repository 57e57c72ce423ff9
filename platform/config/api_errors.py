"""API errors as one JSON shape: {"errors": {field: [messages]}} with the right status code."""

from rest_framework.views import exception_handler as drf_exception_handler


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
