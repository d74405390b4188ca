"""Families written after the features and the model were frozen, and scored before any change.

They are the check on the leave-one-family-out figure: the features were revised while the
other families' misses were in view, so their held-out score flatters the features (not the
weights). These families were never looked at while the features were written; their first
score is kept in the README as the figure for mail nobody wrote rules for.
"""
from __future__ import annotations

from .negatives import N
from .receipts_en import R
from .receipts_he import H

TEMPLATES = [
    # -- car rental ----------------------------------------------------------------------
    R("hertz", "car_rental", "Hertz", ("Hertz", "reservations@emails.hertz.com"), "Your Hertz e-Receipt",
      ("Thank you for renting with Hertz.", "Rental agreement: {order}", "Return date: {date}"), items="travel",
      extras=("tax", "fee"), labels={"total": "TOTAL AMOUNT DUE", "fee": "Concession fee recovery"},
      tail=("Charged to MC XXXXXXXX{card}",)),
    R("sixt_en", "car_rental", "Sixt", ("SIXT", "noreply@sixt.com"), "Invoice for your rental {order}",
      ("Dear {name},", "attached is the invoice for your recent rental.", "Invoice date {date}"), currency="EUR",
      items="travel", extras=("tax",), pdf="attach", labels={"total": "Invoice amount"}),
    H("shlomo_sixt", "car_rental", "שלמה SIXT", ("שלמה SIXT", "service@shlomo.co.il"), "חשבונית עבור השכרת רכב",
      ("שלום {name},", "תודה ששכרת רכב משלמה SIXT.", "מספר חוזה {order}", "תאריך החזרה {date}"), items="travel",
      extras=("tax",)),
    H("eldan", "car_rental", "אלדן", ("אלדן השכרת רכב", "noreply@eldan.co.il"), "סיכום השכרה - אלדן",
      ("הרכב הוחזר בהצלחה.", "סה״כ חויב בכרטיס האשראי: {total}", "{date}"), block=False),
    # -- gyms and classes -----------------------------------------------------------------
    R("classpass", "fitness", "ClassPass", ("ClassPass", "hello@classpass.com"), "Your ClassPass membership renewed",
      ("Hi {name}, your monthly plan renewed today.", "We billed your card {total}.", "Billing date: {date}"), block=False),
    R("peloton", "fitness", "Peloton", ("Peloton", "support@onepeloton.com"), "Your Peloton receipt",
      ("Order Number: {order}", "Order Date: {date}"), items="saas", extras=("tax",), labels={"total": "Order Total"}),
    H("holmes", "fitness", "הולמס פלייס", ("הולמס פלייס", "members@holmesplace.co.il"), "אישור חיוב דמי מנוי",
      ("חבר/ה יקר/ה,", "דמי המנוי לחודש {month_name} נגבו בהצלחה.", "סכום: {total}", "תאריך: {date}"), block=False),
    H("studio_pilates", "fitness", "סטודיו פילאטיס גל", ("סטודיו פילאטיס גל", "gal.pilates@gmail.com"), "קבלה על כרטיסייה",
      ("היי {name},", "מצורפת קבלה על כרטיסיית 10 שיעורים. תודה!"), items="course", pdf="only", pdf_name="kabala-{order}.pdf"),
    # -- pets -----------------------------------------------------------------------------
    R("chewy", "pets", "Chewy", ("Chewy", "orders@chewy.com"), "Thanks for your Chewy order!",
      ("Hi {name},", "Thanks for your order. Here's what you ordered.", "Order # {order}"), items="shop",
      extras=("shipping", "tax"), labels={"total": "Order Total", "shipping": "Shipping"}),
    H("vet_he", "pets", "מרפאה וטרינרית השרון", ("מרפאה וטרינרית השרון", "vet@sharon-vet.co.il"), "קבלה - ביקור במרפאה",
      ("שלום {name},", "תודה שביקרתם אצלנו עם רקסי.", "קבלה מספר {order}", "{date}"), items="health"),
    H("zoo_he", "pets", "זו סנטר", ("זו סנטר", "online@zoocenter.co.il"), "הזמנתך מזו סנטר",
      ("שלום {name}, תודה על הקנייה!", "מספר הזמנה {order}"), items="shop", extras=("shipping",),
      labels={"total": "סה״כ שולם"}),
    # -- professional services -------------------------------------------------------------
    R("accountant_en", "professional", "Bright Ledger CPA", ("Bright Ledger CPA", "office@brightledger.com"),
      "Paid: invoice {order}", ("Hi {name},", "Your payment for invoice {order} has been received. Thank you for your business.",
                                "Amount: {total}", "Paid on {date}"), block=False),
    H("lawyer_he", "professional", "עו״ד רונית שחר", ("עו״ד רונית שחר", "ronit@shahar-law.co.il"), "קבלה על שכר טרחה",
      ("לכבוד {name},", "התקבל תשלום עבור שכר טרחה בתיק {order}.", "סכום התשלום: {total}", "תאריך: {date}"), block=False),
    H("translator_he", "professional", "תרגומים בע״מ", ("תרגומים בע״מ", "office@targumim.co.il"), "חשבונית מס קבלה {order}",
      ("שלום,", "מצ״ב חשבונית מס קבלה עבור עבודת התרגום.", "תודה!"), items="generic", extras=("tax",), pdf="attach"),
    # -- home services -------------------------------------------------------------------
    R("handy", "home_services", "Handy", ("Handy", "receipts@handy.com"), "Your Handy cleaning receipt",
      ("Thanks for booking with Handy.", "Your pro: Maria", "Service date: {date}"), items="generic", extras=("tip",),
      labels={"total": "Total charged"}),
    R("taskrabbit", "home_services", "Taskrabbit", ("Taskrabbit", "no-reply@taskrabbit.com"), "Invoice for your task",
      ("Your task is complete!", "Invoice #{order}", "Task date {date}"), items="generic", extras=("fee",),
      labels={"total": "Total billed", "fee": "Trust and support fee"}),
    H("mazgan", "home_services", "מיזוג אוויר הצפון", ("מיזוג אוויר הצפון", "office@mizug-north.co.il"), "תודה - קבלה על שירות",
      ("שלום {name},", "הטכנאי סיים את הטיפול במזגן.", "התשלום בסך {total} התקבל בהצלחה.", "תאריך: {date}"), block=False),
    H("cleaning_he", "home_services", "ניקיון בקליק", ("ניקיון בקליק", "noreply@nikayon-click.co.il"), "הקבלה שלך על ניקיון הבית",
      ("מספר הזמנה {order}", "מועד השירות: {date}"), items="generic", labels={"total": "סה״כ חויבת"}),

    # -- hard negatives written after the freeze ---------------------------------------------
    N("survey_ride", "neg_surveys", "en", ("Uber", "noreply@uber.com"), "How was your trip with Daniel?",
      ("Rate your trip on {date}.", "Your feedback helps us improve."), block=False),
    N("review_order", "neg_surveys", "en", ("Amazon.com", "customer-reviews-messages@amazon.com"), "How did the item meet your expectations?",
      ("Your order #{order}", "Write a product review"), block=False),
    N("survey_he", "neg_surveys", "he", ("Wolt", "info@wolt.com"), "איך הייתה ההזמנה?", ("דרגו את ההזמנה שלכם ממסעדת הבורגר",
      "זה לוקח רק דקה"), block=False),
    N("order_delay", "neg_order_updates", "en", ("Best Buy", "BestBuyInfo@emailinfo.bestbuy.com"), "An update on your order",
      ("We're sorry, an item in your order #{order} is delayed.", "New estimated delivery: {date}"), items="shop",
      labels={"total": "Order total"}),
    N("out_of_stock_he", "neg_order_updates", "he", ("KSP", "orders@ksp.co.il"), "עדכון לגבי ההזמנה שלך",
      ("שלום {name},", "אחד הפריטים בהזמנה {order} אזל מהמלאי.", "ניצור איתך קשר לגבי המשך הטיפול."), block=False),
    N("invoice_request", "neg_invoice_requests", "en", ("Rachel (Bookkeeping)", "rachel.books@gmail.com"), "Missing invoices for Q3",
      ("Hi,", "I'm closing the quarter. Please send me the invoices for the {total} Amazon charge and the Uber rides.",
       "Thanks"), block=False),
    N("invoice_request_he", "neg_invoice_requests", "he", ("רותי מהנהלת חשבונות", "ruti.books@gmail.com"), "חסרות חשבוניות",
      ("היי,", "חסרות לי החשבוניות של בזק ופרטנר לחודש {month}.", "תוכל לשלוח עד סוף השבוע?"), block=False),
]
