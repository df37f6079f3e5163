from django.urls import path

from reports.views import protocols as views
from reports.views import quickcount

app_name = "protocols"

urlpatterns = [
    path("turnout/", views.turnout_new, name="turnout_new"),
    path("copy/", views.protocol_copy_new, name="copy_new"),
    path("mine/", views.my_counts, name="mine"),
    path("copy/<uuid:uuid>/photo", views.copy_photo, name="copy_photo"),
    path("copy/<uuid:uuid>/original", views.copy_original, name="copy_original"),
    path("results/", views.results_page, name="results"),
    path("results.json", views.results_json, name="results_json"),
    path("results/refresh/", views.results_refresh, name="results_refresh"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics.json", views.statistics_json, name="statistics_json"),
    path("statistics/run/", views.statistics_request, name="statistics_request"),
    path("quickcount/", quickcount.quickcount_page, name="quickcount"),
    path("quickcount.json", quickcount.quickcount_json, name="quickcount_json"),
]
