from django.urls import path

from reports.views import volunteers as views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.signin_code, name="signin"),
    path("signin/<str:token>/", views.signin_token, name="signin_token"),
    path("signout/", views.signout, name="signout"),
    path("report/", views.report_new, name="report_new"),
    path("report/send/", views.report_send, name="report_send"),
    path("my/", views.my_reports, name="my_reports"),
    path("my/questions.json", views.questions_json, name="questions_json"),
    path("my/<uuid:report_uuid>/", views.report_detail, name="report_detail"),
    path("my/questions/<int:pk>/answer/", views.question_answer_view, name="question_answer"),
    path("citizen/", views.citizen_new, name="citizen_new"),
    path("citizen/thanks/", views.citizen_thanks, name="citizen_thanks"),
    path("sw.js", views.service_worker, name="service_worker"),
]
