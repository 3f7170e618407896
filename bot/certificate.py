"""The contract certificate (P-POL-8) as a PDF: number, tier, validity, the products it covers, the company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib
from fpdf import FPDF

from bot.i18n import Catalogue
from bot.services.convert import domain_contract
from bot.settings import Settings
from storage import Tx

__all__ = ["CertificateFacts", "certificate_facts", "write_certificate"]

# DejaVu Sans ships with matplotlib (a dependency already): every Spanish letter, and the dashes, print as typed.
_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@dataclass(frozen=True)
class CertificateFacts:
    number: str
    tier: str
    starts_on: date
    ends_on: date
    hours_total: str
    hours_left: str
    office_hours: str
    onsite_hours: str
    purchase_order: str | None
    client_name: str
    client_tax_id: str | None
    client_phone: str
    products: list[tuple[str, str, str]]  # (name, area, warranty until or "")
    company: str
    company_contact: str


def _hours(value: object) -> str:
    text = f"{float(str(value)):.2f}".rstrip("0").rstrip(".")
    return text or "0"


async def certificate_facts(tx: Tx, settings: Settings, number: str) -> CertificateFacts | None:
    """What the certificate says about contract `number`, or None when there is no such contract."""
    record = await tx.get_contract_by_number(number.strip())
    if record is None:
        return None
    client = await tx.get_client(record.client_id)
    c = domain_contract(record)
    products = [
        (p.name, p.service_area.value, p.warranty_until.isoformat() if p.warranty_until else "")
        for p in await tx.list_products(record.client_id)
        if p.contract_id == record.id and not p.discontinued
    ]
    return CertificateFacts(
        number=c.number, tier=c.tier.value, starts_on=c.starts_on, ends_on=c.ends_on,
        hours_total=_hours(c.hours_total), hours_left=_hours(c.hours_left),
        office_hours=_hours(c.office_hours_total), onsite_hours=_hours(c.onsite_hours_total),
        purchase_order=c.purchase_order, client_name=client.name if client else "?",
        client_tax_id=client.tax_id if client else None, client_phone=client.phone if client else "",
        products=products, company=settings.company_name,
        company_contact=f"{settings.support_phones} · {settings.support_email}",
    )  # fmt: skip


def write_certificate(
    facts: CertificateFacts, path: Path, *, lang: str = "es", catalogue: Catalogue | None = None
) -> Path:
    """Write the certificate PDF at path (folders created). Returns: path."""
    cat = catalogue or Catalogue.load()

    def w(key: str, **params: object) -> str:
        return cat.plain(lang, f"certificate.{key}", **params)

    pdf = FPDF(format="Letter")
    pdf.set_title(w("title", number=facts.number))
    pdf.set_author(facts.company)
    pdf.add_font("DejaVu", "", str(_FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 12, facts.company, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 10, w("title", number=facts.number), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    rows = [
        (w("client"), facts.client_name),
        (w("tax_id"), facts.client_tax_id or "-"),
        (w("phone"), facts.client_phone or "-"),
        (w("number"), facts.number),
        (w("tier"), cat.plain(lang, f"tier.{facts.tier}")),
        (w("validity"), w("from_to", starts=facts.starts_on.isoformat(), ends=facts.ends_on.isoformat())),
        (w("hours"), w("hours_value", total=facts.hours_total, left=facts.hours_left)),
    ]
    if facts.office_hours != "0" or facts.onsite_hours != "0":
        rows.append((w("advice"), w("advice_value", office=facts.office_hours, onsite=facts.onsite_hours)))
    if facts.purchase_order:
        rows.append((w("purchase_order"), facts.purchase_order))
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(55, 8, label)
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(0, 8, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 9, w("products"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    if not facts.products:
        pdf.cell(0, 8, w("no_products"), new_x="LMARGIN", new_y="NEXT")
    for name, area, warranty in facts.products:
        line = f"• {name} — {cat.plain(lang, f'desk.area.{area}')}"
        if warranty:
            line += " · " + w("warranty", until=warranty)
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(
        0, 5, w("footer", company=facts.company, contact=facts.company_contact), new_x="LMARGIN", new_y="NEXT"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path
