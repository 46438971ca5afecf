"""What every browser test shares: Debian's chromium (never a downloaded browser) and a watch on each page that
collects Content-Security-Policy violations and uncaught JavaScript errors, for the test to assert there are none.
axe-core, installed here from npm (package.json: `npm ci --prefix tests/browser`), is in node_modules/."""

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

# Chromium's console messages when the policy blocks something: "Refused to execute inline script because it
# violates the following Content Security Policy directive: ...", "Refused to apply inline style ...", etc.
CSP_VIOLATION = ("Content Security Policy", "Refused to execute inline script")


def watch(page) -> list[str]:
    """The page's CSP violations and uncaught errors, collected as they happen (assert the list stays empty)."""
    problems = []

    def on_console(message) -> None:
        if any(marker in message.text for marker in CSP_VIOLATION):
            problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    return problems
