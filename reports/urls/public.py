from django.urls import path

from reports.views import public as views

app_name = "public"

urlpatterns = [
    path("", views.city, name="city"),
    path("okrug/<int:okrug_id>/", views.okrug, name="okrug"),
    path("station/", views.station_search, name="station_search"),
    path("station/<int:number>/", views.station, name="station"),
    path("feed/", views.feed, name="feed"),
]
