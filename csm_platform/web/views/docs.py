"""The project's documentation for signed-in users at /docs/: the MkDocs site built into ``DOCS_ROOT`` (``make docs``,
``make run``), each file served with the content type of its name. Until it is built, a page says how to build it."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.static import serve


@login_required
@require_safe
def documentation(request, path: str = ""):
    root = Path(settings.DOCS_ROOT)
    if not (root / "index.html").is_file():
        return render(request, "web/docs_not_built.html", status=404)
    if path == "" or path.endswith("/"):
        path += "index.html"
    # serve() joins the path safely under the root (no "..", no absolute path) and answers 404 for what is not a file.
    return serve(request, path, document_root=root)
