"""A deterministic sample mailbox with labels: the demo's, the tests' and the benchmarks' mail.

About 10-20% receipts and invoices in Hebrew and English (plain text, HTML, PDF and image
attachments, forwarded receipts), the rest newsletters, personal mail, shipping notices and
other mail that talks about money without being a receipt, plus some spam and trash.
"""
from __future__ import annotations

import json
import mailbox
import random
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from zoneinfo import ZoneInfo

from .pdf import simple_pdf, tiny_png

ZONE = ZoneInfo("Asia/Jerusalem")


@dataclass
class Label:
    message_id: str
    kind: str
    is_receipt: bool
    vendor: str = ""
    amount: str = ""
    currency: str = ""
    date: str = ""
    folder: str = "INBOX"


# (vendor as a person names it, sender display name, sender address, currency, language)
VENDORS_EN = [
    ("Amazon Web Services", "Amazon Web Services", "aws-billing@amazon.com", "USD"),
    ("Zoom", "Zoom", "billing@zoom.us", "USD"),
    ("DigitalOcean", "DigitalOcean", "support@digitalocean.com", "USD"),
    ("Slack", "Slack", "feedback@slack.com", "USD"),
    ("Dropbox", "Dropbox", "no-reply@dropbox.com", "USD"),
    ("Uber", "Uber Receipts", "noreply@uber.com", "USD"),
    ("Apple", "Apple", "no_reply@email.apple.com", "USD"),
    ("Google Workspace", "Google Workspace", "payments-noreply@google.com", "USD"),
    ("Adobe", "Adobe", "mail@mail.adobe.com", "USD"),
    ("GitHub", "GitHub", "noreply@github.com", "USD"),
    ("Hetzner", "Hetzner Online", "billing@hetzner.com", "EUR"),
    ("Booking.com", "Booking.com", "noreply@booking.com", "EUR"),
    ("Deliveroo", "Deliveroo", "receipts@deliveroo.co.uk", "GBP"),
    ("Figma", "Figma", "billing@figma.com", "USD"),
    ("Wolt", "Wolt", "info@wolt.com", "ILS"),
]
VENDORS_HE = [
    ("בזק", "בזק", "bezeq-invoice@bezeq.co.il", "ILS"),
    ("חברת החשמל", "חברת החשמל", "noreply@iec.co.il", "ILS"),
    ("סלקום", "סלקום", "invoice@cellcom.co.il", "ILS"),
    ("פרטנר", "פרטנר", "einvoice@partner.co.il", "ILS"),
    ("שופרסל", "שופרסל אונליין", "online@shufersal.co.il", "ILS"),
    ("מי אביבים", "מי אביבים", "heshbon@meyavivim.co.il", "ILS"),
    ("רב-קו", "רב-קו אונליין", "ravkav@ravkavonline.co.il", "ILS"),
    ("HOT", "HOT", "hot-invoice@hot.net.il", "ILS"),
    ("גוגל ישראל", "גוגל ישראל", "payments-il@google.com", "ILS"),
    ("ארומה", "ארומה", "receipts@aroma.co.il", "ILS"),
]
FRIENDS = [("Dana Levi", "dana.levi@gmail.com"), ("Yossi Cohen", "yossi.c@walla.co.il"),
           ("Sarah Miller", "sarah.miller@outlook.com"), ("Avi Mizrahi", "avi@mizrahi-law.co.il"),
           ("Noa Katz", "noa.katz@gmail.com"), ("Tom Baker", "tom@bakerdesign.io")]
ME = "demo@example.com"


def _money_text(rng: random.Random, amount: Decimal, currency: str, hebrew: bool) -> str:
    plain = f"{amount:,.2f}"
    if currency == "ILS":
        return rng.choice([f"₪{plain}", f"₪ {plain}", f"{plain} ₪", f'{plain} ש"ח', f"{plain} ש״ח", f"NIS {plain}", f"{plain} ILS"])
    if currency == "USD":
        return rng.choice([f"${plain}", f"USD {plain}", f"${plain} USD", f"US$ {plain}"])
    if currency == "EUR":
        european = f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        return rng.choice([f"€{plain}", f"{european} €", f"EUR {european}", f"€ {plain}"])
    return rng.choice([f"£{plain}", f"GBP {plain}"])


class SampleBuilder:
    def __init__(self, *, seed: int, count: int, months: int, end: date) -> None:
        self.rng = random.Random(seed)
        self.count = count
        self.end = end
        self.start = end - timedelta(days=int(months * 30.44)) + timedelta(days=1)
        self.messages: list[tuple[EmailMessage, Label]] = []
        self.serial = 0

    def when(self) -> datetime:
        span = (self.end - self.start).days
        day = self.start + timedelta(days=self.rng.randint(0, span))
        return datetime(day.year, day.month, day.day, self.rng.randint(0, 23), self.rng.randint(0, 59),
                        self.rng.randint(0, 59), tzinfo=ZONE)

    def new(self, sender: tuple[str, str], subject: str, when: datetime, kind: str, **label: object) -> tuple[EmailMessage, Label]:
        self.serial += 1
        msg = EmailMessage()
        msg["From"] = formataddr(sender)
        msg["To"] = ME
        msg["Subject"] = subject
        msg["Date"] = format_datetime(when)
        message_id = f"<sample-{self.serial:05d}@receipts-sync.example>"
        msg["Message-ID"] = message_id
        result = Label(message_id=message_id, kind=kind, is_receipt=bool(label.pop("is_receipt", False)), **label)  # type: ignore[arg-type]
        self.messages.append((msg, result))
        return msg, result

    # -- receipts ------------------------------------------------------------------------
    def receipt(self) -> None:
        rng = self.rng
        hebrew = rng.random() < 0.4
        vendor, display, address, currency = rng.choice(VENDORS_HE if hebrew else VENDORS_EN)
        when = self.when()
        items = [Decimal(rng.randint(300, 90000)) / 100 for _ in range(rng.randint(1, 4))]
        subtotal = sum(items, Decimal("0"))
        vat = (subtotal * Decimal("0.18")).quantize(Decimal("0.01")) if currency == "ILS" else (
            (subtotal * Decimal("0.2")).quantize(Decimal("0.01")) if currency in {"EUR", "GBP"} else Decimal("0"))
        total = subtotal + vat
        number = f"{rng.choice(['INV', 'RC', 'A', ''])}{rng.randint(10000, 9999999)}"
        style = rng.choice(["text", "html", "pdf", "pdf", "image", "forward"])
        label = {"is_receipt": True, "vendor": vendor, "amount": f"{total:.2f}", "currency": currency,
                 "date": when.date().isoformat()}
        def m(value: Decimal) -> str:
            return _money_text(rng, value, currency, hebrew)

        if hebrew:
            subject = rng.choice([f"חשבונית מס/קבלה מספר {number} - {vendor}", f"קבלה על תשלום ל{vendor}",
                                  f"{vendor}: החשבונית שלך לחודש {when.month:02d}/{when.year}", f"אישור תשלום - {vendor}"])
            lines = ["שלום,", f"תודה על התשלום ל{vendor}.", f"חשבונית מס/קבלה מספר: {number}",
                     f"תאריך: {when:%d/%m/%Y}"]
            lines += [f"פריט {i + 1}: {m(v)}" for i, v in enumerate(items)]
            lines += [f"סכום לפני מע\"מ: {m(subtotal)}", f"מע\"מ 18%: {m(vat)}", f'סה"כ לתשלום: {m(total)}',
                      "אמצעי תשלום: כרטיס אשראי המסתיים ב-4242", "בברכה, צוות " + vendor]
        else:
            subject = rng.choice([f"Your receipt from {vendor} #{number}", f"{vendor} invoice {number}",
                                  "Payment received - thank you", f"Your {vendor} receipt",
                                  f"Invoice {number} for {when:%B %Y}"])
            lines = ["Hi there,", f"Thanks for your payment to {vendor}.", f"Invoice number: {number}",
                     f"Date: {when:%B %d, %Y}"]
            lines += [f"Item {i + 1}: {m(v)}" for i, v in enumerate(items)]
            lines += [f"Subtotal: {m(subtotal)}"]
            if vat:
                lines += [f"VAT: {m(vat)}"]
            lines += [f"Total paid: {m(total)}", "Paid with Visa ending in 4242", f"The {vendor} team"]
        sender = (display, address)
        if style == "forward":
            friend = rng.choice(FRIENDS)
            fwd_when = when + timedelta(hours=rng.randint(1, 48))
            msg, lab = self.new(friend, f"Fwd: {subject}", fwd_when, "receipt-forwarded", **label)
            msg.set_content("\n".join([
                "FYI for the bookkeeping.", "", "---------- Forwarded message ---------",
                f"From: {display} <{address}>", f"Date: {format_datetime(when)}", f"Subject: {subject}", f"To: {ME}", "",
                *lines]))
            return
        msg, lab = self.new(sender, subject, when, f"receipt-{style}", **label)
        if style == "html":
            rows = "".join(f"<tr><td>{line}</td></tr>" for line in lines)
            msg.set_content("\n".join(lines))
            msg.add_alternative(f"<html><body dir={'rtl' if hebrew else 'ltr'}><table>{rows}</table></body></html>", subtype="html")
        elif style in {"pdf", "image"}:
            if hebrew:
                msg.set_content(f"שלום,\nמצורפת חשבונית מס/קבלה מספר {number} מ{vendor}.\nסה\"כ לתשלום: {m(total)}\nתאריך: {when:%d/%m/%Y}")
            else:
                msg.set_content(f"Hello,\nPlease find attached your invoice {number} from {vendor}.\n"
                                f"Amount paid: {m(total)}\nDate: {when:%B %d, %Y}")
            if style == "pdf":
                pdf_lines = [vendor if not hebrew else "Tax invoice / Receipt", f"Invoice number: {number}",
                             f"Date: {when:%d/%m/%Y}" if hebrew else f"Date: {when:%B %d, %Y}"]
                pdf_lines += [f"Subtotal: {subtotal:,.2f} {currency}", f"VAT: {vat:,.2f} {currency}", f"Total: {total:,.2f} {currency}"]
                msg.add_attachment(simple_pdf(pdf_lines), maintype="application", subtype="pdf",
                                   filename=f"invoice-{number}.pdf")
            else:
                msg.add_attachment(tiny_png(self.serial), maintype="image", subtype="png", filename=f"receipt-{number}.png")
        else:
            msg.set_content("\n".join(lines))

    # -- mail that is not a receipt -------------------------------------------------------
    def shipping(self) -> None:
        rng = self.rng
        vendor, display, address, currency = rng.choice(VENDORS_EN[:3] + [("Amazon", "Amazon.com", "shipment-tracking@amazon.com", "USD")])
        total = Decimal(rng.randint(1000, 30000)) / 100
        msg, _ = self.new((display, address), rng.choice(["Your order has shipped", "Out for delivery today", "Your package was delivered"]),
                          self.when(), "shipping")
        msg.set_content(f"Your package is on its way!\nTracking number: 1Z{rng.randint(10**9, 10**10)}\n"
                        f"Order total: {_money_text(rng, total, currency, False)}\nTrack your package in the app. A copy of your invoice is available in your account.")

    def shipping_he(self) -> None:
        rng = self.rng
        msg, _ = self.new(("שופרסל אונליין", "online@shufersal.co.il"), "המשלוח שלך בדרך", self.when(), "shipping")
        msg.set_content(f"שלום, המשלוח שלך יצא מהמחסן.\nמעקב משלוח: {rng.randint(10**6, 10**7)}\nסכום ההזמנה: {rng.randint(100, 900)}.00 ₪")

    def newsletter(self) -> None:
        rng = self.rng
        vendor, display, address, currency = rng.choice(VENDORS_EN + VENDORS_HE)
        price = Decimal(rng.randint(500, 20000)) / 100
        msg, _ = self.new((display, address), rng.choice([f"{vendor}: 30% off this weekend only", f"New from {vendor}", "Our biggest sale of the year", "מבצע סוף עונה!"]),
                          self.when(), "newsletter")
        msg.set_content(f"Shop now and save! Plans from {_money_text(rng, price, currency, False)} per month.\nLimited time offer.\n\nTo unsubscribe click here.")
        msg.add_alternative(f"<html><body><h1>Sale!</h1><p>Only {_money_text(rng, price, currency, False)}</p><a href='#'>Unsubscribe</a></body></html>", subtype="html")

    def notice(self) -> None:
        rng = self.rng
        vendor, display, address, _ = rng.choice(VENDORS_EN)
        kind, subject, body = rng.choice([
            ("security", "Reset your password", f"We received a request to reset your password for {vendor}. Verification code: {rng.randint(100000, 999999)}"),
            ("settings", "Your receipt settings changed", "Your receipt preferences have been changed. Receipts will now be emailed to the billing contact."),
            ("reminder", f"Upcoming payment for {vendor}", "Your card will be charged $19.99 on the 1st. No action is needed."),
            ("declined", "Payment failed", "Your card was declined. Please update your payment method to avoid interruption."),
            ("security", "New sign-in to your account", "A new sign-in attempt was detected from Chrome on Windows."),
        ])
        msg, _ = self.new((display, address), subject, self.when(), kind)
        msg.set_content(body)

    def bank(self) -> None:
        rng = self.rng
        msg, _ = self.new(("Bank Leumi", "service@leumi.co.il"), rng.choice(["Your monthly statement is now available", "דף חשבון חודשי", "Low balance alert"]),
                          self.when(), "bank")
        msg.set_content(f"Your account balance is ₪{rng.randint(1000, 90000):,}.{rng.randint(10, 99)}. Your statement is now available in the app. יתרה בחשבון.")

    def personal(self) -> None:
        rng = self.rng
        friend = rng.choice(FRIENDS)
        subject, body = rng.choice([
            ("Lunch on Thursday?", "Are you free for lunch on Thursday? The new place on Dizengoff."),
            ("Re: project timeline", "I think we can make the March deadline if we start the design review next week."),
            ("מה נשמע?", "היי, מזמן לא דיברנו. נקבע קפה בשבוע הבא?"),
            ("Photos from the weekend", "Here are the photos from the trip. I paid $45 for parking, you can pay me back later."),
            ("Meeting notes", "Attached are the notes from today's meeting. Budget approved: 12,000 ILS."),
        ])
        msg, _ = self.new(friend, subject, self.when(), "personal")
        msg.set_content(body)

    def spam_or_trash(self) -> None:
        rng = self.rng
        folder = rng.choice(["Spam", "Trash"])
        vendor, display, address, currency = rng.choice(VENDORS_EN)
        msg, lab = self.new(("Prize Dept", "winner@lottery.example"), "Your receipt for $1,000,000 prize", self.when(), "spam",
                            folder=folder.upper())
        msg["X-Gmail-Labels"] = folder
        msg.set_content("Claim your prize now! Receipt number 12345. Total: $1,000,000.00")

    def build(self) -> list[tuple[EmailMessage, Label]]:
        makers = [(self.receipt, 15), (self.shipping, 6), (self.shipping_he, 2), (self.newsletter, 20),
                  (self.notice, 8), (self.bank, 4), (self.personal, 40), (self.spam_or_trash, 5)]
        population = [m for m, _ in makers]
        weights = [w for _, w in makers]
        for _ in range(self.count):
            self.rng.choices(population, weights)[0]()
        return self.messages


def generate_sample_mailbox(path: str | Path, *, seed: int = 7, count: int = 3000, months: int = 36,
                            end: date | None = None) -> tuple[Path, Path]:
    """Write ``path`` (an mbox) and ``path`` + ``.labels.json``; returns both paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    end = end or datetime.now(ZONE).date()
    messages = SampleBuilder(seed=seed, count=count, months=months, end=end).build()
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for msg, _ in messages:
            box.add(msg)
        box.flush()
    finally:
        box.unlock()
        box.close()
    labels_path = path.with_name(path.name + ".labels.json")
    labels_path.write_text(json.dumps([asdict(label) for _, label in messages], ensure_ascii=False, indent=1), encoding="utf-8")
    return path, labels_path


def load_labels(path: str | Path) -> dict[str, Label]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {item["message_id"]: Label(**item) for item in data}
