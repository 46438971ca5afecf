"""The one API router and the pagination every list shares.

Each app's ``<app>/api/urls.py`` registers its viewsets on ``router``; ``api_urls.py`` imports those modules
before it reads ``router.urls``.
"""

from rest_framework.pagination import PageNumberPagination
from rest_framework.routers import DefaultRouter

router = DefaultRouter()


class Pagination(PageNumberPagination):
    """``PAGE_SIZE`` rows a page (settings); a client may ask for up to 500 with ``?page_size=``."""

    page_size_query_param = "page_size"
    max_page_size = 500
