"""``{% docs_link "concepts/health-score" "bands" _("Health") %}``: a figure's "How is this computed?" link to the
section of the documentation that defines it, under ``DOCS_URL`` (the app's own /docs/, or docs hosted elsewhere).

The page is a path under docs/ without ``.md`` and the anchor a heading's id on it, both string literals:
tests/test_docs_links.py reads every use in the templates and fails on a page or an anchor that docs/ lacks."""

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()


def docs_url(page: str, anchor: str = "") -> str:
    """The address of docs/``page``.md at ``anchor``: MkDocs builds it into ``page``.html (``use_directory_urls:
    false`` in mkdocs.yml)."""
    return f"{settings.DOCS_URL}{page}.html" + (f"#{anchor}" if anchor else "")


@register.simple_tag
def docs_link(page: str, anchor: str = "", figure: str = ""):
    """The link, named for assistive technology after ``figure`` (its label on the page) when given: a page holds
    several, and a list of links read out of context would otherwise be the same question over and over."""
    text = gettext("How is this computed?")
    if not figure:
        return format_html('<a class="docs-link" href="{}">{}</a>', docs_url(page, anchor), text)
    label = gettext("How is this computed? (%(figure)s)") % {"figure": figure}
    return format_html('<a class="docs-link" href="{}" aria-label="{}">{}</a>', docs_url(page, anchor), label, text)
