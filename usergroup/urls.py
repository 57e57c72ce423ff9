from django.urls import path

from . import meeting_views, release_views, subscription_views, views, webhook_views

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
    path("comments/<int:pk>/edit/", views.edit_comment, name="edit_comment"),
    path("requests/<int:pk>/vote-on-behalf/", views.vote_on_behalf, name="vote_on_behalf"),
    path("requests/<int:pk>/follow/", subscription_views.follow, name="follow"),
    path("ranking/", views.ranking, name="ranking"),
    path("requests/<int:pk>/screenshots/", views.add_screenshot, name="add_screenshot"),
    path("screenshots/<int:pk>/", views.screenshot_file, name="screenshot"),
    path("screenshots/<int:pk>/remove/", views.remove_screenshot, name="remove_screenshot"),
    path("releases/", release_views.release_list, name="releases"),
    path("releases/new/", release_views.release_new, name="release_new"),
    path("releases/<int:pk>/", release_views.release_detail, name="release"),
    path("releases/<int:pk>/edit/", release_views.release_edit, name="release_edit"),
    path("releases/<int:pk>/publish/", release_views.release_publish, name="release_publish"),
    path("preferences/", subscription_views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", subscription_views.unsubscribe, name="unsubscribe"),
    path("meetings/", meeting_views.meeting_list, name="meetings"),
    path("meetings/new/", meeting_views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", meeting_views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", meeting_views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/publish/", meeting_views.meeting_publish, name="meeting_publish"),
    path("meetings/<int:pk>/minutes/", meeting_views.meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/meeting.ics", meeting_views.meeting_ics, name="meeting_ics"),
    path("meetings/feed/<str:token>.ics", meeting_views.meeting_feed, name="meeting_feed"),
    path("webhooks/", webhook_views.endpoint_list, name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.endpoint_detail, name="webhook"),
    path("webhooks/<int:pk>/test/", webhook_views.endpoint_test, name="webhook_test"),
    path("webhooks/<int:pk>/delete/", webhook_views.endpoint_delete, name="webhook_delete"),
]
