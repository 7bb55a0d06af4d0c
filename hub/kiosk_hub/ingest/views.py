from django.http import JsonResponse

API_VERSION = "1"


def health(request):
    return JsonResponse({"status": "ok", "api_version": API_VERSION})
