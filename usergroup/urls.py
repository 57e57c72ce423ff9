from django.urls import path

from . import meeting_views, views

app_name = "usergroup"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.raise_request, name="new"),
    path("roadmap/", views.roadmap, name="roadmap"),
    path("requests/<int:pk>/", views.detail, name="detail"),
    path("requests/<int:pk>/vote/", views.vote, name="vote"),
    path("requests/<int:pk>/comment/", views.comment, name="comment"),
    path("requests/<int:pk>/status/", views.change_status, name="status"),
    path("requests/<int:pk>/merge/", views.merge, name="merge"),
    path("merges/<int:pk>/undo/", views.undo_merge, name="undo_merge"),
    path("comments/<int:pk>/hide/", views.hide_comment, name="hide_comment"),
    path("meetings/", meeting_views.meeting_list, name="meetings"),
    path("meetings/new/", meeting_views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", meeting_views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", meeting_views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/publish/", meeting_views.meeting_publish, name="meeting_publish"),
    path("meetings/<int:pk>/minutes/", meeting_views.meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/meeting.ics", meeting_views.meeting_ics, name="meeting_ics"),
    path("meetings/feed/<str:token>.ics", meeting_views.meeting_feed, name="meeting_feed"),
]
