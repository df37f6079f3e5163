from django.urls import path

from reports.views import coverage as views

app_name = "coverage"

urlpatterns = [
    path("checkin/", views.checkin, name="checkin"),
    path("checkin/left/", views.checkin_left, name="checkin_left"),
    path("coverage/", views.coverage_page, name="page"),
    path("coverage/data.json", views.coverage_data, name="data"),
    path("coverage/groups/", views.groups_page, name="groups"),
    path("coverage/groups/dispatch/", views.group_dispatch_view, name="group_dispatch"),
    path("coverage/trips/<int:pk>/", views.dispatch_update_view, name="dispatch_update"),
]
