"""The project's URLs with Django's admin mounted, as ETHITECH_ADMIN=1 does (the URLconf is read once
at start-up, so tests switch to this one instead)."""

from django.contrib import admin
from django.urls import path

from ethitech.urls import urlpatterns as project

urlpatterns = [path("admin/", admin.site.urls), *project]
