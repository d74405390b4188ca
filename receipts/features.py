"""The evidence the recogniser weighs: named features of one message, each with a reason.

A feature is a fact a bookkeeper would use to tell a record of a completed payment (or a tax
document) from mail that only talks about money: a document word, a payment in the past tense,
an amount beside a total label, a transactional sender, an attached PDF; and against it, a
payment that failed or has not happened yet, an offer, a cart, a shipping notice, a statement,
personal mail. Which feature counts how much is not written here: a small logistic model
(``receipts/model.json``, trained by ``manage.py train_recogniser``) weighs them.

Every pattern is written for lower-cased text and runs through ``matching.PatternSet`` (RE2 in
one linear pass where it is installed).
"""
from __future__ import annotations

from dataclasses import dataclass

from .matching import PatternSet

# (name, where, pattern, reason). ``where``: subject, body, content (subject and body), sender,
# pdf_name, pdf_text. A Hebrew abbreviation's mark is any of ״ " ' (and a doubled ').
G = "(?:\"|״|''|'|׳)?"
REGEX_FEATURES: list[tuple[str, str, str, str]] = [
    # -- a document --------------------------------------------------------------------------
    ("subject_document", "subject",
     r"\b(tax\s+)?invoice\b|\binv[-# ]?\d|\breceipt\b|\bfolio\b|e-?ticket|\bbill\b|statement of fees|"
     r"חשבונית|קבלה|\b(rechnung|quittung|facture|factuur|factura|fattura|ricevuta|reçu|kvittering|faktura)\b",
     "the subject names an invoice or receipt"),
    ("body_document", "body",
     r"\b(tax\s+)?invoice\b|\breceipt\b|\bfolio\b|ticket receipt|tax receipt|record of your donation|"
     r"חשבונית מס|חשבונית|קבלה|מסמך מס|סעיף 46|\b(rechnung|facture|factura|factuur)|numéro de facture",
     "the body names an invoice or receipt"),
    ("document_number", "content",
     r"\b(invoice|receipt|order|transaction|confirmation|booking|reference|ride|trip|document|ticket|folio|policy|"
     r"application|donation|gift|bill|account|transfer)\s*(number|no\.?|num\.?|id|#|code|ref)|\bref(erence)?\b\s*:?\s*[a-z0-9-]{4,}|"
     rf"#\s?[a-z]?\d{{4,}}|\bw\d{{6,}}|מספר (הזמנה|עסקה|קבלה|חשבונית|מסמך|אישור|פוליסה|לקוח|נכס|משלם|כרטיס|מנוי|חשבון)|"
     rf"מס{G}\s*(הזמנה|מסמך|קבלה|חשבונית)|אסמכתא|מזהה|קוד הזמנה|מספר עסקה|rechnungsnummer|factuurnummer|numéro de facture",
     "an invoice, order or transaction number"),
    # -- a payment that happened --------------------------------------------------------------
    ("subject_payment", "subject",
     r"payment (received|confirmation|successful|confirmed|processed)|thank you for your (payment|gift|purchase|order)|"
     r"thanks for your (purchase|order)|we('ve| have)? charged|you paid|you sent|payment receipt|purchase (confirmation|receipt)|"
     r"(renewed|has been processed|has been paid|was successful)\b|autopay|donation receipt|tickets? (to|for)\b|"
     r"אישור (תשלום|עסקה|רכישה|רכישת|חיוב)|סיכום (קנייה|רכישה)|התשלום (שלך )?(ל\S+ )?התקבל|החיוב (החודשי )?בוצע|חויבת|העברת כסף בוצעה|"
     r"התשלום (שלך )?ב|שולמה|שולם|בוצע(ה)?\b|חודש בהצלחה|תודה על (תרומתך|התשלום|הזמנתך|רכישתך)",
     "the subject reports a payment"),
    ("body_payment", "body",
     r"\bwe('ve| have)? (charged|received your (\w+ )?payment|took a payment|successfully processed)|\b(has|have|was|were) (successfully )?(been )?charged|"
     r"you (paid|sent|donated)|\bpaid (with|by|on|in full|for)\b|payment (was |has been )?(received|successful|confirmed|processed|taken|completed)|"
     r"your payment (of|has|was)|thank(s| you) for (your )?(payment|purchase|purchasing|order|donation|gift|riding|travelling|fuelling|shopping|parking|staying|ordering|booking|visit)|"
     r"has been (purchased|renewed|billed|processed|paid)|\brenewed (on|for|successfully)\b|(was|successfully) renewed|payment status:? completed|"
     r"transaction (completed|approved|date)|date paid|paid on|has been debited|will be debited from your credit card|"
     r"donation of|your (generous )?gift|your order (is|has been) (confirmed|placed|processed|received)|"
     r"חויבת|חויב|חייבנו|החיוב (בוצע|החודשי|הסופי)|חיוב [^\n]{0,40}בוצע|התשלום (התקבל|בוצע|עבר|אושר|עבור|על)|התשלום [^\n]{0,30}התקבל|התקבל תשלום|"
     r"שולם|ששולם|שילמת|שלחת|נגבו|נגבה|נגבתה|"
     r"תודה על (התשלום|הרכישה|רכישתך|הקנייה|קנייתך|הזמנתך|הזמנה|תרומתך|ביקורך|שהייתך|הנסיעה)|תודה ש(קנית|נסעת|תדלקת|בחרת|רכשת|הזמנת)|"
     r"העסקה בוצעה|הרכישה בוצעה|בוצעה בהצלחה|בוצע בהצלחה|תרומתך|שהייתך|נלקטה ונמסרה|אושרה ושולמה|התקבלה ושולמה|"
     r"התקבלה במערכת והתשלום|עבר בהצלחה|נמסרה",
     "the body reports a completed payment"),
    ("order_confirmed", "content",
     r"(order|box|booking|reservation|purchase)( is| has been)? confirmed and paid|is confirmed and paid|"
     r"order (is |has been )?(confirmed|placed|received|complete)|order [#\w-]{1,24} (is|has been|was) (confirmed|placed|received)|"
     r"order confirmation|booking (is )?confirmed|"
     r"your booking|reservation (is )?confirmed|you('re| are) going to|you got tickets|itinerary|"
     r"we('re| are) (getting your order ready|processing your order)|is now being processed|confirmation code|"
     r"ההזמנה (שלך )?(אושרה|התקבלה|בוצעה|סופקה)|הזמנתך (התקבלה|אושרה|בסטימצקי)|אישור הזמנה|קיבלנו את הזמנתך|רכישת הכרטיסים",
     "an order or booking is confirmed"),
    ("summary_block", "body",
     r"order summary|purchase summary|payment summary|billing summary|payment (details|information)|order details|"
     r"billing details|transaction details|סיכום (ההזמנה|הזמנה|רכישה|הרכישה|תשלום|העסקה)|פרטי (התשלום|ההזמנה|העסקה|הרכישה)",
     "a summary of an order or payment"),
    ("paid_word", "content", r"\bpaid\b|שולם|שולמה|שולמו|נפרע", "the word paid"),
    ("purchase_made", "content",
     r"you (purchased|bought|ordered)|your purchase (of|from)|purchased on|ordered on|order placed|"
     r"thank you for your business|thanks for your business|רכשת|קנית|הזמנת\b|הרכישה שלך|הקנייה שלך",
     "a purchase the reader made"),
    ("trip_summary", "content",
     r"thanks for riding|your (\w+ )?(trip|ride|tour|journey|journeys)\b|ride (id|receipt)|trip fare|base fare|"
     r"supercharging|parking (receipt|session)|zone \d|station:|"
     r"הנסיעה|נסיעה|חניה|תדלוק|טעינת|תחנה:",
     "a ride, parking, fuel or transit summary"),
    ("payment_method", "body",
     r"\b(visa|mastercard|amex|american express|paypal|apple pay|google pay|direct debit|venmo balance|card ending)\b|"
     r"ending (in|with)? ?\d{4}|••••|\*\*\*\*|\.\.\.\. ?\d{4}|x-\d{4}|כרטיס (ה)?אשראי|המסתיים ב|הוראת קבע|ביט\b|\bbit\b",
     "names the card or method it was paid with"),
    ("total_word", "body",
     rf"\b(grand total|total paid|amount paid|total charged|paid amount|amount received|payment amount|balance paid|"
     rf"final (charge|amount)|order total|total|amount)\b|gesamtbetrag|montant total|totaal|סה{G}כ|סך הכל|לתשלום|סכום|עלות",
     "a total"),
    ("tax_line", "body", rf"\bvat\b|\btax(es)?\b|\bgst\b|\bmwst\b|\btva\b|מע{G}מ", "mentions VAT or tax"),
    ("link_to_document", "body",
     r"(view|download)( your)? (invoice|receipt)|view receipt|invoice online|לצפייה בקבלה|להורדת החשבונית",
     "links to the invoice or receipt"),
    ("donation", "content", r"\bdonat(ion|ing|e)\b|\bgift\b|תרומה|תרומתך|סעיף 46", "a donation"),
    # -- who sent it -------------------------------------------------------------------------
    ("transactional_sender", "sender",
     r"(^|[<\s.+_-])(no-?reply|do-?not-?reply|donotreply|billing|receipts?|invoices?|payments?|orders?|auto-confirm|"
     r"transaction|accounts|einvoice|heshbon|messenger|docs|digital|service|online|booking|tickets|support)[^@]*@",
     "a transactional sender address"),
    ("freemail_sender", "sender", r"@(gmail|googlemail|walla|outlook|hotmail|yahoo|icloud|live|aol)\.", "a personal mail address"),
    ("payment_service_sender", "sender",
     r"@([\w.-]+\.)?(stripe\.com|squareup\.com|square\.com|paddle\.com|paypal\.com|lemonsqueezy\.com|shopifyemail\.com|"
     r"xero\.com|intuit\.com|freshbooks\.com|greeninvoice\.co\.il|morning\.co|icount\.co\.il|ezcount\.co\.il|invoice4u\.co\.il|"
     r"rivhit\.co\.il|sumit\.co\.il|cardcom\.co\.il|tranzila\.com|meshulam\.co\.il|payplus\.co\.il|venmo\.com|wise\.com|"
     r"bit\.co\.il|payboxapp\.com|pepper\.co\.il|jgive\.com|payments\.gov\.il)>?$",
     "sent by a payment or invoicing service for the vendor"),
    # -- attachments -------------------------------------------------------------------------
    ("pdf_named_document", "pdf_name",
     r"invoice|receipt|rechnung|facture|factura|bill|folio|policy|kabala|heshbonit|חשבונית|קבלה",
     "a PDF named like an invoice"),
    ("pdf_text_document", "pdf_text", r"\b(invoice|receipt|rechnung|facture|factura)\b|חשבונית|קבלה", "the PDF names an invoice or receipt"),
    ("pdf_text_total", "pdf_text", rf"\btotal\b|gesamt|montant|סה{G}כ|לתשלום", "the PDF has a total"),
    # -- against ------------------------------------------------------------------------------
    ("payment_failed", "content",
     r"payment (failed|declined|unsuccessful|was unsuccessful|did not go through)|card was declined|(couldn't|could not|unable to) "
     r"(charge|process)|trouble with your (current )?billing|update your payment (method|details|info)|action needed|"
     r"נכשל|נדחה|לא עבר|לא הצלחנו לחייב|(?:^|[^א-ת])חזרה(?:$|[^א-ת])|לא בוצע|לעדכן אמצעי תשלום|להסדיר את התשלום",
     "a payment that failed"),
    ("payment_upcoming", "content",
     r"will be charged|we('ll| will) charge|renews (on|soon|automatically)|will renew|upcoming (charge|payment)|trial ends|"
     r"\bis due\b|due date|balance due|due within|pay (now|this invoice|your bill)|reminder|minimum payment|after your trial|"
     r"יתבצע|יתחדש|ממתין לתשלום|טרם התקבל|מועד אחרון לתשלום|לתשלום עד|דרישת תשלום|תזכורת|מועד החיוב",
     "a payment that has not happened yet"),
    ("not_charged", "content",
     r"\bpending\b|not (yet )?(been )?charged|were not charged|have not been charged|no payment was (taken|made)|free of charge|"
     r"לא חויבת|ולא חויבת|הזיכוי יבוצע",
     "says nothing was charged"),
    ("cancelled", "content", r"\bcancell?ed\b|\bcancellation\b|בוטלה|בוטל\b|ביטול", "a cancellation"),
    ("offer", "content",
     r"\bquote\b|\b(your|an|the) estimate\b|estimate (#|for|from)|\bproposal\b|valid for \d+ days|accept proposal|reply to approve|הצעת מחיר|ההצעה בתוקף|ההערכה|לאישורך",
     "a quote or proposal"),
    ("cart", "content",
     r"\bcart\b|check ?out now|complete your (purchase|order|booking)|still thinking|left something|wish ?list|not finished yet|"
     r"סל הקניות|סל קניות|בסל|השלימו את ההזמנה|להשלים את ההזמנה|לא הושלמה|שכחת",
     "a cart or an unfinished order"),
    ("price_alert", "content",
     r"price drop|back in stock|prices? (dropped|fell)|\bwas \$|flights from|fares from|tracked route|ירד במחיר|התראת מחיר",
     "a price alert"),
    ("promotion", "content",
     r"\d+% off|(on|big|biggest|summer|winter|spring|flash|season|black friday|year) sale|sale (ends|starts|is on|now)|\bdeals?\b|save big|buy now|shop now|upgrade (now|to)|limited time|ends (friday|soon)|black friday|"
     r"get more|book now|from £|מבצע|1\+1|משלוח חינם|בתוקף עד|לחברי מועדון",
     "a promotion"),
    ("shipping", "content",
     r"(has|have|was|were|been|is) shipped|\bshipped:|shipped to you|on (its|the) way|out for delivery|tracking (number|#)|track your|(order|package|parcel|shipment) (#?\S+ )?is ready for pickup|waybill|"
     r"\bshipment\b|your (package|parcel)|(package|parcel) (is|was|has|will)|packages are|"
     r"arriving today|collected on delivery|import duties|"
     r"\bdelayed\b|estimated delivery|new delivery date|out of stock|אזל מהמלאי|\bspedit[oi]\b|in consegna|consegnat[oi]|versandt|zugestellt|expédié|livré|verzonden|bezorgd|"
     r"משלוח (שלך )?(בדרך|יצא)|יצאה למשלוח|מעקב משלוח|החבילה (שלך )?(בדרך|נמסרה|הגיעה|ממתינה|יצאה|נשלחה)|דבר דואר (\S+ )?(ממתין|הגיע|נמסר)|(החבילה|המשלוח)[^\n]{0,20}נשלח|ההזמנה (שלך )?(נשלחה|יצאה) (אליך|למשלוח)|בדרך אליך|ממתין לך בסניף",
     "a shipping or delivery notice"),
    ("statement", "content",
     r"statement (is )?(now )?(ready|available)|(current|account|your|new|available|low) balance|balance (is|of)\b|net asset value|activity statement|billing statement|"
     r"דף חשבון|יתרה|פירוט (החיובים|העסקאות)",
     "an account statement"),
    ("account_notice", "content",
     r"security alert|new sign-in|sign-in|password reset|reset your password|password (was|has been) changed|verification code|one-time|\botp\b|added a (new )?card|"
     r"(receipt|email) settings|preferences have|קוד אימות|קוד האימות|סיסמה",
     "an account or security notice"),
    ("newsletter", "content",
     r"\btips\b|how to\b|\bnew:|introducing|plans start at|start for|webinar|checklist|just got faster|"
     r"one click|בלחיצה אחת|חדש:|מסלול עסקי",
     "a newsletter or marketing mail"),
    ("personal_money", "content",
     r"you owe|owe me|pay me back|my half|\bowe\b|reimbursement|budget|כל אחד צריך|להעביר|להחזר|שכר הטרחה|הצעתי|נדבר",
     "personal mail about money"),
    ("unsubscribe", "content", r"unsubscribe|להסרה|הסרה מרשימת|email preferences", "an unsubscribe footer"),
]

# Features worked out in code, not by a pattern (see recognition.evidence).
COMPUTED_FEATURES: list[tuple[str, str]] = [
    ("money", "an amount with a currency"),
    ("total_with_amount", "an amount beside a total label"),
    ("many_amounts", "three amounts or more (an itemised bill)"),
    ("no_amount", "no amount with a currency anywhere"),
    ("pdf_attached", "a PDF is attached"),
    ("einvoice", "a PDF carries an e-invoice (ZUGFeRD/Factur-X) with its total"),
    ("forwarded", "a forwarded message (read for the original sender and subject)"),
    # Broad evidence, each standing for a group of the specific features above: a kind of mail
    # the model has not seen still shares these with kinds it has.
    ("payment_done", "some report of a payment, order, booking or trip that happened"),
    ("document", "some sign of an invoice or receipt document"),
    ("not_done", "some sign that nothing was paid yet (failed, upcoming, cancelled, cart, quote)"),
    ("other_purpose", "some sign the mail is about something else (shipping, statement, account, marketing, personal)"),
    ("no_counter_evidence", "nothing says the payment did not happen or that the mail is about something else"),
]
BROAD_FEATURES: dict[str, frozenset[str]] = {
    "payment_done": frozenset({"subject_payment", "body_payment", "order_confirmed", "trip_summary", "purchase_made"}),
    "document": frozenset({"subject_document", "body_document", "pdf_named_document", "pdf_text_document", "link_to_document",
                           "einvoice"}),
    "not_done": frozenset({"payment_failed", "payment_upcoming", "not_charged", "cancelled", "offer", "cart"}),
    "other_purpose": frozenset({"shipping", "statement", "account_notice", "newsletter", "promotion", "price_alert",
                                "personal_money"}),
}

FEATURE_NAMES = [name for name, *_ in REGEX_FEATURES] + [name for name, _ in COMPUTED_FEATURES]
REASONS = {name: reason for name, _, _, reason in REGEX_FEATURES} | dict(COMPUTED_FEATURES)
# Features that need the PDF's text, read only when they could change the answer.
# (The bound on what reading it could add counts every feature it can switch on, and the
# ``no_amount`` it can switch off.)
PDF_TEXT_FEATURES = frozenset({"pdf_text_document", "pdf_text_total", "einvoice", "money", "total_with_amount", "document"})


def add_broad(features: set[str]) -> None:
    for name, members in BROAD_FEATURES.items():
        if features & members:
            features.add(name)
    if "not_done" in features or "other_purpose" in features:
        features.discard("no_counter_evidence")
    else:
        features.add("no_counter_evidence")


@dataclass(frozen=True)
class FieldPatterns:
    where: str
    names: list[str]
    patterns: PatternSet

    def found(self, text: str) -> list[str]:
        return [self.names[i] for i in self.patterns.found(text)]


def _build(use_re2: bool | None = None) -> dict[str, FieldPatterns]:
    fields: dict[str, FieldPatterns] = {}
    for where in ("subject", "body", "content", "sender", "pdf_name", "pdf_text"):
        chosen = [(name, pattern) for name, w, pattern, _ in REGEX_FEATURES if w == where]
        fields[where] = FieldPatterns(where, [n for n, _ in chosen], PatternSet([p for _, p in chosen], use_re2=use_re2))
    return fields


FIELDS = _build()


def patterns_without_re2() -> dict[str, FieldPatterns]:
    """The same features on Python's ``re`` (what a platform without google-re2 runs)."""
    return _build(use_re2=False)
