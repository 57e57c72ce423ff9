from django.urls import path

from . import views

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
]
