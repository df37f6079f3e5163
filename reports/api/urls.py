"""/api/: the versioned API, its OpenAPI schema, and the interactive docs (served locally)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from reports.api import views

app_name = "api"

router = SimpleRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("reports", views.ReportViewSet, basename="report")
router.register("stations", views.StationViewSet, basename="station")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("tallies", views.TallyViewSet, basename="tally")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("exports", views.ExportViewSet, basename="export")

urlpatterns = [
    path("v1/schemas/<slug:shape>.json", views.json_schema, name="json-schema"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="exports/api_docs.html"
        ),
        name="docs",
    ),
]
