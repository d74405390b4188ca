"""Reading raw mail: the fast parser, the lenient fallback, forwarded messages, names, HTML and PDFs."""
from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import fast_mail_parser
import pytest

from gmail_sync.emulator.pdf import simple_pdf
from receipts.parsing import html_to_text, parse_email, parse_sender, pdf_text


def test_mail_the_fast_parser_refuses_is_read_by_the_standard_library() -> None:
    raw = b" \nFrom: Shop <shop@example.com>\nSubject: Receipt 12\nDate: Tue, 05 Mar 2024 10:00:00 +0200\n\nTotal paid: $5.00\n"
    with pytest.raises(fast_mail_parser.ParseError):
        fast_mail_parser.parse_email_tree(raw)
    parsed = parse_email(raw)
    assert "Total paid: $5.00" in parsed.text
    assert parsed.date == datetime(2024, 3, 5, 8, 0, tzinfo=UTC)


def test_the_date_header_is_read_when_asked_and_a_broken_one_is_none() -> None:
    parsed = parse_email(b"From: a@b.com\r\nDate: Sun, 01 Dec 2024 23:30:00 -0500\r\n\r\nhi\r\n")
    assert parsed.date_header == "Sun, 01 Dec 2024 23:30:00 -0500"
    assert parsed.date == datetime(2024, 12, 2, 4, 30, tzinfo=UTC)
    assert parse_email(b"From: a@b.com\r\nDate: next tuesday\r\n\r\nhi\r\n").date is None
    assert parse_email(b"From: a@b.com\r\n\r\nhi\r\n").date is None


def test_a_forwarded_message_and_an_encoded_file_name_are_read() -> None:
    inner = EmailMessage()
    inner["From"] = "Vendor <billing@vendor.example>"
    inner["Subject"] = "Your receipt"
    inner.set_content("Amount paid: 42.00 EUR")
    outer = EmailMessage()
    outer["From"] = "Me <me@example.com>"
    outer["Subject"] = "Fwd: Your receipt"
    outer.set_content("See below.")
    outer.add_attachment(inner)
    outer.add_attachment(simple_pdf(["Invoice", "Total 42.00 EUR"]), maintype="application", subtype="pdf",
                         filename="חשבונית 7.pdf")
    parsed = parse_email(outer.as_bytes())
    assert "See below." in parsed.text and "Amount paid: 42.00 EUR" in parsed.text
    assert [a.filename for a in parsed.attachments] == ["חשבונית 7.pdf"]
    assert [a.filename for a in parsed.pdfs] == ["חשבונית 7.pdf"]
    assert "42.00 EUR" in parsed.pdf_text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Shop <Shop@Example.com>", ("Shop", "shop@example.com")),
        ('"Doe, John" <j@x.com>', ("Doe, John", "j@x.com")),
        ("j@x.com", ("", "j@x.com")),
        ("j@x.com (John)", ("John", "j@x.com")),
        ("רב-קו אונליין <ravkav@ravkavonline.co.il>", ("רב-קו אונליין", "ravkav@ravkavonline.co.il")),
        ("", ("", "")),
    ],
)
def test_senders(header: str, expected: tuple[str, str]) -> None:
    assert parse_sender(header) == expected


def test_html_becomes_the_text_a_reader_sees() -> None:
    html = ("<html><head><title>t</title><style>p{color:red}</style></head><body><p>Order <b>#12</b></p>"
            "<table><tr><td>Total</td><td>₪ 99.90</td></tr></table><script>var x = 1;</script></body></html>")
    assert html_to_text(html).splitlines() == ["Order #12", "Total ₪ 99.90"]


def test_pdf_text_reads_pages_and_never_raises() -> None:
    assert "Total 10.00 USD" in pdf_text(simple_pdf(["Invoice", "Total 10.00 USD"]))
    assert pdf_text(b"%PDF-1.4 truncated garbage") == ""


def test_a_message_of_too_many_parts_is_refused_before_any_parser_sees_it() -> None:
    """GIVEN a message of 600 tiny parts WHEN it is read THEN it is refused with its reason, in
    one pass over the bytes (a parser's cost and stack grow with the parts and their nesting)."""
    from receipts.parsing import MAX_PARTS, MessageRefused

    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(MAX_PARTS + 100))
    raw = f"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n{parts}--b--\r\n".encode()
    with pytest.raises(MessageRefused, match=f"more than {MAX_PARTS} MIME parts"):
        parse_email(raw)
    fewer = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(20))
    assert "part 19" in parse_email(f"Content-Type: multipart/mixed; boundary=b\r\n\r\n{fewer}--b--\r\n".encode()).body
