from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView
from django.views.i18n import set_language

from reports.views import public, volunteers

urlpatterns = [
    path("healthz", volunteers.healthz, name="healthz"),
    # Browsers ask every site for /favicon.ico; the icon is a static file like the rest.
    path("favicon.ico", RedirectView.as_view(url=static("reports/favicon.svg"), permanent=True)),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/", include("reports.api.urls")),
    path("exports/", include("reports.api.pages")),
    path("protocols/", include("reports.urls.protocols")),
    path("public/", include("reports.urls.public")),
    path("", public.front, name="front"),
    path("", include("reports.urls.coverage")),
    path("", include("reports.urls.volunteers")),
]

if settings.DEBUG:
    from django.conf.urls.static import static as media

    urlpatterns += media(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
