"""Rendering the evaluation templates into real RFC 822 mail, with their labels.

A template is one vendor's (or one kind of non-receipt's) mail: its sender, subject, the
sentences around the money, the labels of its amount lines and its layout. Each rendering
draws new amounts, dates, number and currency styles, a layout (plain, HTML table, both, a
PDF) and a footer, so that a rule that fits one rendering's spelling does not fit them all.
The labels (is it a receipt; total; currency; vendor; date) come from the same draw.
"""
from __future__ import annotations

import email
import email.header
import email.utils
import html
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any
from zoneinfo import ZoneInfo

from gmail_sync.emulator.mailbox import decoded_payload
from gmail_sync.emulator.pdf import simple_pdf
from receipts.parsing import html_to_text

ZONE = ZoneInfo("Asia/Jerusalem")
CENT = Decimal("0.01")
ME = "books@example.co.il"

MONTHS_HE = ["ינואר", "פברואר", "מרץ", "אפריל", "מאי", "יוני", "יולי", "אוגוסט", "ספטמבר", "אוקטובר", "נובמבר", "דצמבר"]

FOOTERS_EN = [
    ["You're receiving this email because you made a purchase.", "Unsubscribe | Privacy Policy | Terms of Service",
     "{company}, 548 Market St, San Francisco, CA 94104"],
    ["Questions? Visit our Help Center.", "To stop receiving these emails, unsubscribe here.", "© {year} {company}. All rights reserved."],
    ["Manage your email preferences or unsubscribe.", "{company} · 1 Infinite Loop · Cupertino, CA"],
    ["Follow us on Facebook · Instagram · X", "Privacy | Help | View in browser"],
    ["This is an automated message, please do not reply."],
    [],
]
FOOTERS_HE = [
    ["הודעה זו נשלחה אליך באופן אוטומטי, אין להשיב עליה.", "להסרה מרשימת התפוצה לחצו כאן", "מדיניות פרטיות | תנאי שימוש"],
    ["{company}, רחוב הברזל 3, תל אביב", "לשאלות: שירות הלקוחות זמין בטלפון *2000"],
    ["קיבלת מייל זה כי ביצעת רכישה באתר.", "© {year} {company}. כל הזכויות שמורות."],
    ["עקבו אחרינו בפייסבוק ובאינסטגרם", "להסרה לחצו כאן"],
    [],
]
ITEMS_EN = {
    "generic": ["Item", "Product", "Service"],
    "ride": ["Trip fare", "Base fare", "Distance", "Time", "Booking fee"],
    "food": ["Margherita pizza", "Caesar salad", "Pad thai", "Sushi combo", "Burger & fries", "Iced latte"],
    "saas": ["Pro plan (monthly)", "Team plan · 5 seats", "Business annual", "Additional storage 100 GB"],
    "travel": ["Flight TLV-LHR", "Economy fare", "Seat selection", "Checked bag 23kg", "Room, 2 nights", "City tax"],
    "utility": ["Electricity usage", "Fixed charge", "Internet 1000Mb", "Mobile plan", "Water and sewage"],
    "shop": ["Wireless mouse", "USB-C cable 2m", "Notebook A5", "Desk lamp", "Coffee beans 1kg", "T-shirt (M)"],
    "fee": ["Fee", "Payment", "Annual fee", "Registration"],
    "fuel": ["Unleaded 95", "Diesel", "Car wash", "Supercharging 45 kWh"],
    "health": ["Consultation", "Prescription", "Dental cleaning", "Vitamin D3"],
    "course": ["Course enrolment", "Certificate", "Semester fee"],
    "ticket": ["Ticket, row 12", "Standing ticket", "Service charge"],
    "grocery": ["Milk 3% 1L", "Bread", "Tomatoes 1kg", "Eggs L x12", "Olive oil 750ml", "Cheese 200g"],
}
ITEMS_HE = {
    "generic": ["פריט", "מוצר", "שירות"],
    "ride": ["נסיעה", "תעריף בסיס", "מרחק", "דמי הזמנה"],
    "food": ["פיצה מרגריטה", "סלט יווני", "שווארמה בלאפה", "המבורגר", "קפה הפוך", "סושי קומבו"],
    "saas": ["מנוי חודשי", "חבילת עסקים", "מנוי שנתי"],
    "travel": ["טיסה תל אביב-אילת", "כבודה", "לינה 2 לילות", "ארוחת בוקר"],
    "utility": ["צריכת חשמל", "תשלום קבוע", "אינטרנט סיבים", "חבילת סלולר", "מים וביוב"],
    "shop": ["עכבר אלחוטי", "כבל USB-C", "מחברת", "מנורת שולחן", "פולי קפה 1 ק\"ג"],
    "fee": ["תשלום", "אגרה", "דמי חבר"],
    "fuel": ["בנזין 95", "סולר", "שטיפת רכב"],
    "health": ["ביקור רופא", "תרופה", "טיפול שיניים", "ויטמין D"],
    "course": ["שכר לימוד", "קורס", "דמי רישום"],
    "ticket": ["כרטיס, שורה 12", "כרטיס עמידה", "דמי טיפול"],
    "grocery": ["חלב 3% ליטר", "לחם אחיד", "עגבניות 1 ק\"ג", "ביצים L", "שמן זית", "גבינה צהובה"],
}
LABELS_EN = {"subtotal": "Subtotal", "discount": "Discount", "tax": "Tax", "tip": "Tip", "shipping": "Shipping",
             "fee": "Service fee", "total": "Total"}
LABELS_HE = {"subtotal": "סה״כ לפני מע״מ", "discount": "הנחה", "tax": "מע״מ 18%", "tip": "טיפ", "shipping": "דמי משלוח",
             "fee": "דמי שירות", "total": "סה״כ לתשלום"}
TAX_RATE = {"ILS": Decimal("0.18"), "EUR": Decimal("0.19"), "GBP": Decimal("0.20"), "USD": Decimal("0.0825")}


@dataclass(frozen=True)
class Template:
    """One kind of mail. Text fields are ``str.format`` templates over the rendering's values:
    {vendor} {name} {date} {order} {total} {subtotal} {card} {month} {year} {estimate} {payee}."""
    key: str
    family: str
    lang: str
    receipt: bool
    sender: tuple[str, str]
    subject: str
    lead: tuple[str, ...]
    vendor: str = ""
    currency: str = "USD"
    items: str = "generic"
    extras: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    tail: tuple[str, ...] = ()
    block: bool = True          # the amount lines are in the body
    pdf: str = ""               # "": none; "attach": a PDF beside the body; "only": the amounts only in the PDF
    pdf_name: str = "invoice-{order}.pdf"
    layouts: tuple[str, ...] = ("plain", "html", "both")
    estimate: bool = False      # an estimated total first, the final charge in the lead or tail
    forward: str = ""           # "gmail" | "outlook" | "apple" | "gmail_he": a forward of ``inner``
    inner: Template | None = None
    range: tuple[int, int] = (800, 40000)  # items' amounts, in cents


@dataclass
class Rendered:
    name: str
    family: str
    lang: str
    raw: bytes
    is_receipt: bool
    vendor: str = ""
    amount: str = ""
    currency: str = ""
    date: str = ""


def money_text(rng: random.Random, amount: Decimal, currency: str, lang: str) -> str:
    """``amount`` as such mail writes it: symbol or code, before or after, with its separators."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    plain = f"{amount:,.2f}"
    european = plain.replace(",", " ").replace(".", ",").replace(" ", ".")
    if currency == "ILS":
        styles = [f"₪{plain}", f"₪ {plain}", f"{plain} ₪", f'{plain} ש"ח', f"{plain} ש״ח", f"{plain} ILS", f"ILS {plain}",
                  f"NIS {plain}", f"₪{plain.replace(',', '')}"]
        if lang == "he":
            styles += [f"{plain} ₪", f"₪{plain}", f"{plain} ש״ח"]
    elif currency == "USD":
        styles = [f"${plain}", f"$ {plain}", f"USD {plain}", f"${plain} USD", f"US${plain}"]
    elif currency == "EUR":
        styles = [f"€{plain}", f"{european} €", f"{european} EUR", f"EUR {european}", f"€ {european}"]
    elif currency == "GBP":
        styles = [f"£{plain}", f"GBP {plain}", f"£ {plain}"]
    else:
        styles = [f"{plain} {currency}", f"{currency} {plain}"]
    return sign + rng.choice(styles)


def date_text(rng: random.Random, day: date, currency: str, lang: str) -> str:
    if lang == "he":
        return rng.choice([f"{day:%d/%m/%Y}", f"{day.day}.{day.month}.{day.year}", f"{day:%d.%m.%y}",
                           f"{day.day} ב{MONTHS_HE[day.month - 1]} {day.year}", f"{day:%d/%m/%Y}"])
    styles = [f"{day:%B} {day.day}, {day.year}", f"{day.day} {day:%b} {day.year}", f"{day:%Y-%m-%d}", f"{day:%b} {day.day}, {day.year}"]
    styles.append(f"{day:%m/%d/%Y}" if currency == "USD" else f"{day:%d/%m/%Y}")
    return rng.choice(styles)


def _as_bytes(msg: EmailMessage, tag: str) -> bytes:
    """The message's bytes with fixed MIME boundaries, so that a seed always gives the same mail."""
    for number, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=={tag}-{number}==")
    return msg.as_bytes()


def _gershayim(rng: random.Random, text: str) -> str:
    """Hebrew abbreviations as people type them: ״ or " or ' (סה״כ, סה"כ, סה'כ)."""
    mark = rng.choice(["״", '"', "״", "'"])
    return text.replace("״", mark)


class Renderer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    def values(self, template: Template, when: datetime) -> tuple[dict[str, str], list[tuple[str, Decimal]], Decimal, Decimal]:
        rng = self.rng
        names = (ITEMS_HE if template.lang == "he" else ITEMS_EN)[template.items]
        low, high = template.range
        lines = [(rng.choice(names), Decimal(rng.randint(low, high)) / 100 * (1 if rng.random() < 0.85 else 10))
                 for _ in range(rng.randint(1, 4))]
        subtotal = sum((amount for _, amount in lines), Decimal("0"))
        rows: list[tuple[str, Decimal]] = list(lines)
        extras = []
        if len(lines) > 1 or template.extras:
            extras.append(("subtotal", subtotal))
        total = subtotal
        for extra in template.extras:
            if extra == "discount":
                value = -(subtotal * Decimal(rng.choice([5, 10, 15, 20])) / 100).quantize(CENT)
            elif extra == "tax":
                value = (subtotal * TAX_RATE.get(template.currency, Decimal("0.1"))).quantize(CENT)
            elif extra == "tip":
                value = (subtotal * Decimal(rng.choice([10, 12, 15, 18])) / 100).quantize(CENT)
            else:
                value = Decimal(rng.choice([990, 1490, 1990, 2500, 500])) / 100
            total += value
            extras.append((extra, value))
        rows += extras
        estimate = (total * Decimal(rng.choice([103, 105, 108])) / 100).quantize(CENT)
        name = rng.choice(["Dana", "Yossi", "Sarah", "Avi", "Noa", "Tom", "Michal", "Eitan"])
        values = {
            "vendor": template.vendor, "name": name, "order": self.order_number(),
            "date": date_text(rng, when.date(), template.currency, template.lang),
            "card": rng.choice(["4242", "1881", "0005", "7310"]), "month": f"{when.month:02d}/{when.year}",
            "year": str(when.year), "month_name": MONTHS_HE[when.month - 1] if template.lang == "he" else f"{when:%B}",
        }
        return values, rows, total, estimate

    def order_number(self) -> str:
        rng = self.rng
        return rng.choice([f"{rng.randint(100000, 9999999)}", f"INV-{rng.randint(1000, 99999)}",
                           f"{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}", f"A{rng.randint(10000, 999999)}"])

    def render(self, template: Template, index: int, *, when: datetime | None = None) -> Rendered:
        rng = self.rng
        self.serial += 1
        when = when or self.when()
        values, rows, total, estimate = self.values(template, when)
        def m(value: Any) -> str:
            return money_text(rng, value, template.currency, template.lang)

        values["total"] = m(total)
        values["estimate"] = m(estimate)
        values["subtotal"] = m(rows[0][1])
        labels = {**(LABELS_HE if template.lang == "he" else LABELS_EN), **template.labels}
        def fmt(text: str) -> str:
            return _gershayim(rng, text.format(**values)) if template.lang == "he" else text.format(**values)

        block = [(label if label not in labels else fmt(labels[label]), m(value)) for label, value in rows]
        if template.estimate:
            block.append((fmt(labels.get("estimate", "Estimated total" if template.lang == "en" else "סה״כ משוער")), m(estimate)))
        else:
            block.append((fmt(labels["total"]), values["total"]))
        lead = [fmt(line) for line in template.lead]
        tail = [fmt(line) for line in template.tail]
        company = template.vendor or template.sender[0]
        footer = [line.format(company=company, year=when.year)
                  for line in rng.choice(FOOTERS_HE if template.lang == "he" else FOOTERS_EN)]
        msg = EmailMessage()
        sender = (template.sender[0].format(**values), template.sender[1])
        subject = fmt(template.subject)
        in_body = template.block and template.pdf != "only"
        layout = rng.choice(template.layouts)
        plain_lines = [*lead, *([f"{label}: {value}" if rng.random() < 0.7 else f"{label}  {value}" for label, value in block] if in_body else []),
                       *tail, "", *footer]
        direction = "rtl" if template.lang == "he" else "ltr"
        rows_html = "".join(f"<tr><td>{html.escape(label)}</td><td align=right>{html.escape(value)}</td></tr>" for label, value in block)
        html_body = (f"<html><head><style>td{{padding:4px}}</style></head><body dir={direction}>"
                     + "".join(f"<p>{html.escape(line)}</p>" for line in lead)
                     + (f"<table>{rows_html}</table>" if in_body else "")
                     + "".join(f"<p>{html.escape(line)}</p>" for line in tail)
                     + "<hr><div style='font-size:11px'>" + "<br>".join(html.escape(line) for line in footer)
                     + " <a href='https://example.com/unsubscribe'>Unsubscribe</a></div></body></html>")
        if template.forward and template.inner is not None:
            return self._forward(template, index, when)
        msg["From"] = formataddr(sender)
        msg["To"] = ME
        msg["Subject"] = subject
        msg["Date"] = format_datetime(when)
        msg["Message-ID"] = f"<{template.key}-{index}@eval.receipts-sync.example>"
        if layout == "html":
            msg.set_content(html_body, subtype="html")
        else:
            msg.set_content("\n".join(plain_lines))
            if layout == "both":
                msg.add_alternative(html_body, subtype="html")
        if template.pdf:
            pdf_lines = [company if company.isascii() else "Tax invoice / Receipt", f"Invoice number: {values['order']}",
                         f"Date: {when:%d/%m/%Y}" if template.currency != "USD" else f"Date: {when:%B %d, %Y}"]
            def plain_money(v: Decimal) -> str:
                return f"{v:,.2f} {template.currency}"

            pdf_lines += [f"{label if label.isascii() else ''}: {plain_money(v)}".lstrip(": ") for label, v in rows
                          if label in LABELS_EN]
            pdf_lines.append(f"Total: {plain_money(total)}")
            msg.add_attachment(simple_pdf(pdf_lines), maintype="application", subtype="pdf",
                               filename=template.pdf_name.format(**values))
        return Rendered(f"{template.key}#{index}", template.family, template.lang, _as_bytes(msg, f"{template.key}-{index}"), template.receipt,
                        template.vendor if template.receipt else "", f"{total:.2f}" if template.receipt else "",
                        template.currency if template.receipt else "", when.date().isoformat() if template.receipt else "")

    def _forward(self, template: Template, index: int, when: datetime) -> Rendered:
        inner = template.inner
        assert inner is not None
        original = self.render(inner, index, when=when)
        parsed = email.message_from_bytes(original.raw)
        text = ""
        for part in parsed.walk():
            if part.get_content_type() == "text/plain":
                text = decoded_payload(part).decode("utf-8")
                break
        if not text:
            for part in parsed.walk():
                if part.get_content_type() == "text/html":
                    text = html_to_text(decoded_payload(part).decode("utf-8"))
        display, address = email.utils.parseaddr(str(parsed["From"]))
        display = str(email.header.make_header(email.header.decode_header(display)))
        from_line = f"{display} <{address}>"
        subject = str(email.header.make_header(email.header.decode_header(str(parsed["Subject"]))))
        later = when + timedelta(hours=self.rng.randint(1, 72))
        friend = template.sender
        if template.forward == "outlook":
            header = ["-----Original Message-----", f"From: {from_line}", f"Sent: {format_datetime(when)}", f"To: {ME}",
                      f"Subject: {subject}"]
            prefix = "FW: "
        elif template.forward == "apple":
            header = ["Begin forwarded message:", "", f"From: {from_line}", f"Subject: {subject}", f"Date: {format_datetime(when)}",
                      f"To: {ME}"]
            prefix = "Fwd: "
        elif template.forward == "gmail_he":
            header = ["---------- הודעה שהועברה ---------", f"מאת: {from_line}", f"Date: {format_datetime(when)}",
                      f"נושא: {subject}", f"אל: {ME}"]
            prefix = "הועבר: "
        else:
            header = ["---------- Forwarded message ---------", f"From: {from_line}", f"Date: {format_datetime(when)}",
                      f"Subject: {subject}", f"To: {ME}"]
            prefix = "Fwd: "
        msg = EmailMessage()
        msg["From"] = formataddr(friend)
        msg["To"] = ME
        msg["Subject"] = prefix + subject
        msg["Date"] = format_datetime(later)
        msg["Message-ID"] = f"<{template.key}-{index}@eval.receipts-sync.example>"
        msg.set_content("\n".join([self.rng.choice(template.lead), "", *header, "", text]))
        for part in parsed.walk():
            if part.get_content_type() == "application/pdf":
                msg.add_attachment(decoded_payload(part), maintype="application", subtype="pdf",
                                   filename=part.get_filename())
        return Rendered(f"{template.key}#{index}", template.family, template.lang, _as_bytes(msg, f"{template.key}-{index}"), original.is_receipt,
                        original.vendor, original.amount, original.currency, original.date)

    def when(self) -> datetime:
        rng = self.rng
        day = date(2023, 1, 1) + timedelta(days=rng.randint(0, 1000))
        hour = rng.choice([0, 0, 7, 9, 12, 15, 18, 21, 23])
        return datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), tzinfo=ZONE)
