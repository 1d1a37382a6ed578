"""The documentation a newcomer reads: a short README whose links resolve, conventions in sync, no history."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_CONVENTIONS = ROOT.parent / "shared" / "docs" / "conventions.md"
HISTORY_WORDS = ("first pass", "second pass", "this session", "issue ", "load average", "we tried",
                 "engineer", "Also fixed on the way")


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_readme_is_short_and_starts_with_the_setup_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    head = "\n".join(lines[:10])
    assert "make demo" in head and "make test" in head


def test_every_docs_link_in_the_readme_exists():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#]+)", text)
    assert links
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert not missing, f"README links to missing pages: {missing}"


def test_conventions_copy_matches_the_shared_file():
    if not SHARED_CONVENTIONS.is_file():
        pytest.skip(f"{SHARED_CONVENTIONS} is not beside this checkout")
    assert (ROOT / "docs" / "conventions.md").read_text() == SHARED_CONVENTIONS.read_text()


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_docs_hold_no_history(page):
    text = page.read_text(encoding="utf-8").lower()
    found = [w for w in HISTORY_WORDS if w.lower() in text]
    assert not found, f"{page.name}: history words {found}"


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_relative_links_and_images_resolve(page):
    """Every relative link or image in a page points at a file, from that page's own folder."""
    text = page.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)", text)
    local = [t for t in targets if "://" not in t and not t.startswith("mailto:")]
    missing = [t for t in local if not (page.parent / t).exists()]
    assert not missing, f"{page.name}: links to missing files {missing}"


@cache
def _slugs(page: Path) -> frozenset[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens
    (each page read once)."""
    slugs = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced  # a "#" line in a code block is a comment, not a heading
        elif line.startswith("#") and not fenced:
            title = line.lstrip("#").strip().lower()
            slugs.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return frozenset(slugs)


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_section_links_resolve(page):
    """Every link to a section (``page.md#anchor`` or ``#anchor``) names a heading of that page."""
    text = page.read_text(encoding="utf-8")
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", text):
        if "://" in target:
            continue
        linked = page.parent / target if target else page
        if linked.is_file() and anchor not in _slugs(linked):
            broken.append(f"{target}#{anchor}")
    assert not broken, f"{page.name}: links to missing sections {broken}"
