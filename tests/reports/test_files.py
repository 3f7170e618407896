"""The report's files: every chart is a real, readable, non-blank PNG; the CSVs and the HTML page are there."""

from __future__ import annotations

import csv

from PIL import Image

from bot.reports.render import CHARTS
from tests.reports.conftest import Month


def test_every_png_opens_has_its_size_and_is_not_blank(month: Month) -> None:
    assert [p.name for p in month.files.charts] == list(CHARTS)
    for path in month.files.charts:
        with Image.open(path) as image:
            image.verify()  # a truncated or corrupt file raises here
        with Image.open(path) as image:
            assert image.format == "PNG"
            width, height = image.size
            assert width >= 600 and height >= 240, (path.name, image.size)
            pixels = image.convert("RGB").resize((150, 80))
            colours = pixels.getcolors(maxcolors=150 * 80) or []
            inked = sum(n for n, rgb in colours if sum(rgb) < 600)  # anything clearly darker than white
            assert len(colours) > 8 and inked > 0.02 * 150 * 80, (path.name, len(colours), inked)


def test_the_html_summary_shows_every_chart_and_the_csvs_have_rows(month: Month) -> None:
    page = month.files.html.read_text(encoding="utf-8")
    for name in CHARTS:
        assert f"src='{name}'" in page
    assert "Informe de soporte 2026-11" in page and "horas hábiles" in page.lower()
    for path in month.files.csv:
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), path.name
