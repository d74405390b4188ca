"""Hebrew receipt templates (and English mail of Israeli vendors), after the shape of real mail.

``״`` in these texts is drawn anew at each rendering as ״, " or ' (see render._gershayim).
"""
from __future__ import annotations

from .render import Template


def H(key: str, family: str, vendor: str, sender: tuple[str, str], subject: str, lead: tuple[str, ...], **kw: object) -> Template:
    kw.setdefault("currency", "ILS")
    lang = str(kw.pop("lang", "he"))
    return Template(key=key, family=family, lang=lang, receipt=True, vendor=vendor, sender=sender, subject=subject,
                    lead=lead, **kw)  # type: ignore[arg-type]


TEMPLATES = [
    # -- payment processors ---------------------------------------------------------------
    H("cardcom", "payment_processors", "סטודיו נוגה", ("סטודיו נוגה", "noreply@cardcom.co.il"), "אישור עסקה - סטודיו נוגה",
      ("שלום {name},", "העסקה בוצעה בהצלחה.", "מספר אישור: {order}", "תאריך העסקה: {date}"), items="generic",
      labels={"total": "סכום העסקה"}, tail=("כרטיס אשראי: **** {card}",)),
    H("tranzila", "payment_processors", "פיצה בסט", ("פיצה בסט", "no-reply@tranzila.com"), "קבלה על תשלום באתר פיצה בסט",
      ("תודה שבחרת בנו!", "התשלום התקבל בהצלחה.", "מספר עסקה: {order}", "{date}"), items="food", extras=("shipping",)),
    H("meshulam", "payment_processors", "יוגה בפארק", ("יוגה בפארק", "payments@meshulam.co.il"), "התשלום שלך ליוגה בפארק התקבל",
      ("היי {name},", "התשלום התקבל. תודה!", "סכום ששולם: {total}", "תאריך: {date}", "אסמכתא: {order}"), block=False),
    H("payplus", "payment_processors", "קפה נחת", ("קפה נחת", "noreply@payplus.co.il"), "אישור תשלום מקפה נחת",
      ("שלום,", "החיוב בוצע בהצלחה בכרטיס המסתיים ב-{card}.", "מספר עסקה {order}", "בתאריך {date}"), items="food",
      labels={"total": "סה״כ חויב"}),

    # -- marketplaces ------------------------------------------------------------------
    H("ksp", "marketplaces", "KSP", ("KSP", "orders@ksp.co.il"), "הזמנה מספר {order} התקבלה ושולמה",
      ("שלום {name},", "תודה על הזמנתך באתר KSP.", "מספר הזמנה: {order}", "תאריך הזמנה: {date}"), items="shop",
      extras=("shipping",), labels={"total": "סה״כ ששולם"}),
    H("ivory", "marketplaces", "אייבורי", ("אייבורי מחשבים", "sales@ivory.co.il"), "אישור הזמנה {order} - אייבורי",
      ("הזמנתך התקבלה במערכת והתשלום אושר.", "מס׳ הזמנה {order}", "{date}"), items="shop", labels={"total": "סה״כ לתשלום"}),
    H("amazon_il", "marketplaces", "Amazon", ("Amazon.com", "auto-confirm@amazon.com"), "ההזמנה שלך ב-Amazon.com מספר {order}",
      ("שלום {name},", "תודה שקנית אצלנו. נעדכן כשהפריט יישלח.", "הזמנה #{order}", "בוצעה בתאריך {date}"), currency="USD",
      items="shop", extras=("shipping", "tax"), labels={"total": "סכום ההזמנה", "tax": "מיסים ומכס משוערים"}),
    H("yad2", "marketplaces", "יד2", ("יד2", "noreply@yad2.co.il"), "קבלה על הקפצת מודעה",
      ("שלום {name},", "התשלום על הקפצת המודעה שלך התקבל.", "מספר קבלה: {order}", "תאריך: {date}"), items="fee",
      labels={"total": "סכום"}),

    # -- app stores ---------------------------------------------------------------------
    H("apple_he", "app_stores", "Apple", ("Apple", "no_reply@email.apple.com"), "הקבלה שלך מ-Apple.",
      ("קבלה", "תאריך {date}", "מזהה הזמנה {order}"), items="saas", labels={"total": "סה״כ"}, tail=("חויב בכרטיס Visa .... {card}",)),
    H("google_play_he", "app_stores", "Google Play", ("Google Play", "googleplay-noreply@google.com"),
      "הקבלה על ההזמנה שלך ב-Google Play מתאריך {date}", ("תודה.", "ביצעת רכישה ב-Google Play.", "מספר הזמנה: GPA.{order}"),
      items="saas", labels={"total": "סה״כ"}, extras=("tax",)),

    # -- SaaS --------------------------------------------------------------------------
    H("monday", "saas", "monday.com", ("monday.com", "billing@monday.com"), "קבלה על תשלום למנוי monday.com",
      ("שלום {name},", "חייבנו את כרטיס האשראי שלך עבור המנוי השנתי.", "מספר קבלה: {order}", "תאריך: {date}"), items="saas",
      extras=("tax",)),
    H("wix", "saas", "Wix", ("Wix.com", "wix-team@emails.wix.com"), "המנוי שלך חודש בהצלחה",
      ("היי {name},", "המנוי Premium לאתר שלך חודש. חויבת בסך {total}.", "מספר הזמנה: {order}", "תאריך חידוש: {date}"),
      block=False),
    H("zoom_he", "saas", "Zoom", ("Zoom", "billing@zoom.us"), "תודה על התשלום", ("{name} שלום,", "תודה על התשלום האחרון שלך.",
      "מספר חשבונית: {order}", "תאריך חשבונית: {date}"), currency="USD", items="saas", labels={"total": "הסכום ששולם"}),
    H("fiverr", "saas", "Fiverr", ("Fiverr", "noreply@fiverr.com"), "Your Fiverr order receipt",
      ("Hi {name},", "Thanks for your order! Payment received.", "Order #FO{order}", "Date: {date}"), currency="USD",
      items="saas", extras=("fee",), labels={"total": "Total paid", "fee": "Service fee"}, lang="en"),

    # -- cloud and hosting -------------------------------------------------------------
    H("upress", "cloud_hosting", "uPress", ("uPress", "billing@upress.co.il"), "חשבונית מס קבלה - uPress",
      ("שלום רב,", "מצורפת חשבונית מס קבלה עבור חידוש שירות האחסון.", "מס׳ מסמך {order}", "תאריך {date}"), items="saas",
      extras=("tax",), pdf="attach"),
    H("box_il", "cloud_hosting", "בוקס", ("בוקס אחסון אתרים", "support@box.co.il"), "חידוש דומיין בוצע",
      ("הדומיין שלך חודש לשנה נוספת.", "החיוב בוצע בסך {total}.", "תאריך: {date}", "אסמכתא {order}"), block=False),
    H("google_cloud_il", "cloud_hosting", "Google Cloud", ("Google Payments", "payments-noreply@google.com"),
      "Google Cloud: החשבונית החודשית שלך", ("שלום,", "החשבונית לחודש {month_name} זמינה ושולמה.", "מספר חשבונית {order}"),
      items="saas", extras=("tax",), labels={"total": "סה״כ שחויב"}),

    # -- airlines ---------------------------------------------------------------------
    H("elal_he", "airlines", "אל על", ("אל על", "elal-booking@elal.co.il"), "אישור הזמנה ותשלום - {order}",
      ("שלום {name},", "תודה שבחרת לטוס עם אל על. ההזמנה אושרה.", "קוד הזמנה: {order}", "תאריך הנפקה: {date}"), items="travel",
      currency="USD", labels={"total": "סה״כ חויב"}, extras=("tax",)),
    H("israir", "airlines", "ישראייר", ("ישראייר", "noreply@israir.co.il"), "אישור רכישה - ישראייר",
      ("רכישת הכרטיסים בוצעה בהצלחה.", "מספר הזמנה: {order}", "תאריך: {date}"), items="travel"),
    H("arkia", "airlines", "ארקיע", ("ארקיע", "booking@arkia.co.il"), "כרטיס הטיסה שלך לאילת",
      ("שלום {name},", "ההזמנה שלך אושרה ושולמה.", "מספר הזמנה {order}", "{date}"), items="travel",
      labels={"total": "סה״כ ששולם"}),

    # -- hotels -----------------------------------------------------------------------
    H("fattal", "hotels", "פתאל", ("מלונות פתאל", "reservations@fattal.co.il"), "אישור הזמנה - מלון ליאונרדו",
      ("שלום {name},", "תודה שבחרת במלונות פתאל. הזמנתך אושרה.", "מספר הזמנה: {order}", "הגעה: {date}"), items="travel",
      labels={"total": "סה״כ שולם"}, tail=("התשלום בוצע בכרטיס המסתיים ב-{card}",)),
    H("isrotel", "hotels", "ישרוטל", ("ישרוטל", "noreply@isrotel.co.il"), "קבלה על שהייה - ישרוטל",
      ("תודה על שהייתך אצלנו!", "מספר קבלה {order}", "תאריך עזיבה {date}"), items="travel", extras=("fee",),
      labels={"fee": "דמי נופש"}),
    H("booking_he", "hotels", "Booking.com", ("Booking.com", "noreply@booking.com"), "ההזמנה שלך אושרה במלון הים",
      ("תודה, {name}! ההזמנה שלך בתל אביב אושרה.", "מספר אישור: {order}", "צ'ק-אין: {date}"), items="travel",
      labels={"total": "מחיר כולל"}, tail=("שילמת את מלוא הסכום בכרטיס המסתיים ב-{card}.",)),

    # -- utilities --------------------------------------------------------------------
    H("iec", "utilities", "חברת החשמל", ("חברת החשמל", "noreply@iec.co.il"), "החשבונית שלך לתקופה {month}",
      ("לקוח יקר,", "מצורפת חשבונית החשמל לתקופה האחרונה.", "החיוב יבוצע בהוראת קבע בחשבון הבנק.", "מספר חשבון חוזה {order}",
       "תאריך הפקה: {date}"), items="utility", extras=("tax",), labels={"total": "סה״כ לתשלום"}, pdf="attach",
      pdf_name="heshbonit_{order}.pdf"),
    H("mei_avivim", "utilities", "מי אביבים", ("מי אביבים", "heshbon@meyavivim.co.il"), "קבלה על תשלום חשבון מים",
      ("שלום,", "התשלום עבור חשבון המים התקבל בהצלחה.", "מספר נכס {order}", "תאריך תשלום {date}"), items="utility",
      labels={"total": "סכום ששולם"}),
    H("supergas", "utilities", "סופרגז", ("סופרגז", "service@supergas.co.il"), "חשבונית מס/קבלה סופרגז",
      ("לקוח נכבד,", "תודה על התשלום.", "חשבונית מס/קבלה מס׳ {order}", "{date}"), items="utility", extras=("tax",)),
    H("arnona_ta", "government", "עיריית תל אביב-יפו", ("עיריית תל אביב-יפו", "arnona@tel-aviv.gov.il"), "אישור תשלום ארנונה",
      ("תושב/ת יקר/ה,", "התשלום עבור ארנונה לתקופה {month} התקבל.", "מספר משלם {order}", "תאריך {date}"), items="fee",
      labels={"total": "סכום ששולם"}),

    # -- telecom ---------------------------------------------------------------------
    H("bezeq", "telecom", "בזק", ("בזק", "bezeq-invoice@bezeq.co.il"), "החשבונית החודשית שלך מבזק",
      ("לקוח יקר,", "חשבונית מס לחודש {month_name} מוכנה.", "הסכום יחויב בכרטיס האשראי המסתיים ב-{card}.", "מספר חשבונית {order}"),
      items="utility", extras=("tax",), pdf="attach"),
    H("partner", "telecom", "פרטנר", ("פרטנר", "einvoice@partner.co.il"), "חשבונית פרטנר לחודש {month}",
      ("שלום {name},", "חשבונית חודש {month} מצורפת.", "תאריך הפקה {date}"), items="utility", labels={"total": "סה״כ לחיוב"},
      pdf="attach"),
    H("cellcom", "telecom", "סלקום", ("סלקום", "invoice@cellcom.co.il"), "סלקום - החשבון שלך שולם",
      ("היי {name},", "התשלום על החשבון לחודש {month_name} התקבל.", "מספר לקוח {order}"), items="utility",
      labels={"total": "סכום החיוב"}),
    H("hot", "telecom", "HOT", ("HOT", "hot-invoice@hot.net.il"), "HOT: חשבונית מס מספר {order}",
      ("מנוי/ה יקר/ה,", "מצורפת חשבונית המס עבור שירותי HOT.", "תקופת חיוב: {month}"), items="utility", extras=("tax",),
      pdf="only"),
    H("golan", "telecom", "גולן טלקום", ("גולן טלקום", "billing@golantelecom.co.il"), "החיוב החודשי בוצע",
      ("שלום,", "החיוב החודשי על סך {total} בוצע בהצלחה בכרטיס {card}.", "תאריך {date}"), block=False),

    # -- food delivery ---------------------------------------------------------------
    H("wolt", "food_delivery", "Wolt", ("Wolt", "info@wolt.com"), "הקבלה שלך מ-Wolt", ("תודה על ההזמנה, {name}!",
      "ההזמנה שלך ממסעדת הבורגר נמסרה.", "מספר הזמנה {order}", "{date}"), items="food", extras=("shipping", "fee"),
      labels={"fee": "דמי שירות"}),
    H("tenbis", "food_delivery", "תן ביס", ("תן ביס", "noreply@10bis.co.il"), "ההזמנה שלך מחומוס אבו חסן בוצעה",
      ("בתאבון!", "ההזמנה נשלחה למסעדה.", "מספר הזמנה: {order}", "{date}"), items="food", extras=("shipping",),
      labels={"total": "חויב בתן ביס"}),
    H("mishloha", "food_delivery", "משלוחה", ("משלוחה", "orders@mishloha.co.il"), "קבלה - הזמנה מספר {order}",
      ("שלום {name},", "תודה שהזמנת דרך משלוחה.", "{date}"), items="food", extras=("shipping", "tip")),
    H("dominos_il", "food_delivery", "דומינוס", ("דומינוס פיצה", "online@dominos.co.il"), "אישור הזמנה מדומינוס",
      ("ההזמנה שלך התקבלה והיא בהכנה.", "מספר הזמנה {order}", "שולם בכרטיס אשראי"), items="food",
      labels={"total": "סה״כ"}),

    # -- rides ------------------------------------------------------------------------
    H("gett", "rides", "Gett", ("Gett", "receipts@gett.com"), "הקבלה לנסיעה שלך עם Gett",
      ("תודה שנסעת עם Gett, {name}!", "נסיעה מתל אביב לרמת גן", "{date}"), items="ride", labels={"total": "סה״כ"},
      tail=("שולם בכרטיס אשראי ****{card}",)),
    H("yango", "rides", "Yango", ("Yango", "no-reply@yango.com"), "נסיעה ב-{date}: הקבלה",
      ("תודה שבחרת ב-Yango", "הנסיעה הסתיימה."), items="ride", extras=("tip",), labels={"total": "סה״כ לתשלום"}),
    H("uber_he", "rides", "Uber", ("Uber Receipts", "noreply@uber.com"), "הנסיעה שלך עם Uber ביום {date}",
      ("תודה על הנסיעה, {name}", "אנחנו מקווים שנהנית מהנסיעה."), items="ride", labels={"total": "סה״כ"}),
    H("hopon", "rides", "HopOn", ("HopOn", "receipts@hopon.co.il"), "הקבלה לנסיעה שלך",
      ("נסיעה בקו 480", "תאריך {date}", "מספר עסקה {order}"), items="ride", labels={"total": "חויבת"}),

    # -- parking and transit ----------------------------------------------------------
    H("pango", "parking_transit", "פנגו", ("פנגו", "noreply@pango.co.il"), "סיכום חניה - פנגו",
      ("החניה הסתיימה.", "אזור חניה: תל אביב 5", "תאריך: {date}"), items="fee", labels={"total": "סכום החניה"}),
    H("cellopark", "parking_transit", "סלופארק", ("סלופארק", "service@cellopark.co.il"), "קבלה על חניה",
      ("שלום {name},", "חויבת בסך {total} עבור חניה בתאריך {date}.", "מספר קבלה {order}"), block=False),
    H("ravkav", "parking_transit", "רב-קו", ("רב-קו אונליין", "ravkav@ravkavonline.co.il"), "טעינת רב-קו בוצעה",
      ("טעינת החוזה בוצעה בהצלחה.", "מספר כרטיס {order}", "{date}"), items="ticket", labels={"total": "סכום הטעינה"}),
    H("moovit", "parking_transit", "Moovit", ("Moovit", "pay@moovitapp.com"), "קבלה על נסיעה ב-Moovit",
      ("הנסיעה שולמה באפליקציה.", "קו 5 · {date}", "מזהה {order}"), items="ticket", labels={"total": "סה״כ"}),

    # -- government ---------------------------------------------------------------------
    H("gov_il", "government", "רשות האוכלוסין", ("שירות התשלומים הממשלתי", "noreply@payments.gov.il"),
      "אישור תשלום - רשות האוכלוסין וההגירה", ("התשלום בוצע בהצלחה.", "שם השירות: אגרת דרכון", "מספר אסמכתא: {order}",
                                                 "תאריך התשלום: {date}"), items="fee", labels={"total": "סכום ששולם"}),
    H("misrad_harishui", "government", "משרד התחבורה", ("משרד התחבורה", "noreply@mot.gov.il"), "אגרת רישוי רכב שולמה",
      ("שלום,", "תשלום אגרת הרישוי לרכב התקבל.", "סכום: {total}", "אסמכתא {order}", "{date}"), block=False),
    H("bituah_leumi", "government", "ביטוח לאומי", ("המוסד לביטוח לאומי", "noreply@btl.gov.il"), "קבלה על תשלום דמי ביטוח",
      ("שלום {name},", "התקבל תשלום דמי ביטוח לאומי.", "מספר קבלה {order}", "תאריך {date}"), items="fee",
      labels={"total": "סה״כ שולם"}),

    # -- insurance --------------------------------------------------------------------
    H("harel", "insurance", "הראל", ("הראל ביטוח", "noreply@harel-group.co.il"), "אישור תשלום פרמיה - הראל",
      ("לקוח/ה יקר/ה,", "תשלום הפרמיה עבור פוליסה {order} התקבל.", "תאריך: {date}"), items="fee",
      labels={"total": "סכום הפרמיה ששולמה"}),
    H("migdal", "insurance", "מגדל", ("מגדל ביטוח", "service@migdal.co.il"), "קבלה על תשלום - ביטוח רכב",
      ("שלום {name},", "מצורפת קבלה על תשלום ביטוח הרכב.", "מספר פוליסה {order}"), items="fee", pdf="attach",
      pdf_name="kabala.pdf"),
    H("ayalon", "insurance", "איילון", ("איילון ביטוח", "digital@ayalon-ins.co.il"), "החיוב עבור הפוליסה בוצע",
      ("החיוב החודשי עבור ביטוח הדירה בוצע בהצלחה.", "סכום החיוב: {total}", "תאריך החיוב: {date}"), block=False),

    # -- donations --------------------------------------------------------------------
    H("latet", "donations", "לתת", ("עמותת לתת", "donate@latet.org.il"), "קבלה על תרומה לפי סעיף 46",
      ("תודה על תרומתך!", "קבלה מספר {order}", "תאריך {date}", "הקבלה מוכרת לצורכי מס לפי סעיף 46 לפקודת מס הכנסה."),
      items="fee", labels={"total": "סכום התרומה"}),
    H("jgive", "donations", "עמותת אור ירוק", ("JGive", "noreply@jgive.com"), "תודה על תרומתך לעמותת אור ירוק",
      ("שלום {name},", "תרומתך בסך {total} לעמותת אור ירוק התקבלה.", "תאריך: {date}", "קבלה תישלח בנפרד."), block=False),
    H("yad_sarah", "donations", "יד שרה", ("יד שרה", "trumot@yadsarah.org.il"), "קבלה על תרומה",
      ("תודה רבה על תרומתך ליד שרה.", "מספר קבלה {order}"), items="fee", pdf="attach", pdf_name="kabala_{order}.pdf"),

    # -- Israeli invoicing services sending for the vendor -----------------------------------
    H("green_invoice", "il_invoicing", "סטודיו כרמל", ("סטודיו כרמל באמצעות חשבונית ירוקה", "no-reply@greeninvoice.co.il"),
      "חשבונית מס קבלה מסטודיו כרמל", ("שלום {name},", "מצורפת חשבונית מס קבלה מסטודיו כרמל.", "מספר מסמך {order}",
                                       "תאריך {date}"), items="generic", extras=("tax",)),
    H("morning", "il_invoicing", "דנה עיצובים", ("morning", "noreply@morning.co"), "קיבלת מסמך חדש מדנה עיצובים",
      ("היי,", "דנה עיצובים שלחו לך קבלה.", "מספר קבלה {order}", "תאריך {date}"), items="generic",
      labels={"total": "סה״כ"}),
    H("icount", "il_invoicing", "מוסך הצפון", ("מוסך הצפון", "docs@icount.co.il"), "חשבונית מס/קבלה {order} ממוסך הצפון",
      ("לקוח יקר,", "מצורף מסמך מס/קבלה.", "תאריך: {date}"), items="generic", extras=("tax",), pdf="attach"),
    H("ezcount", "il_invoicing", "אורי כהן רואה חשבון", ("EZcount", "no-reply@ezcount.co.il"),
      "מסמך מאת אורי כהן רואה חשבון", ("שלום,", "אורי כהן רואה חשבון שלח/ה לך קבלה מספר {order}.", "תאריך המסמך: {date}"),
      items="fee", labels={"total": "סכום"}),
    H("invoice4u", "il_invoicing", "גן הילדים של רותי", ("גן הילדים של רותי", "noreply@invoice4u.co.il"),
      "קבלה מספר {order}", ("הורים יקרים,", "מצורפת קבלה על תשלום שכר לימוד לחודש {month_name}."), items="course", pdf="only",
      pdf_name="kabala_{order}.pdf"),
    H("rivhit", "il_invoicing", "אופטיקה הדר", ("אופטיקה הדר", "docs@rivhit.co.il"), "חשבונית מס קבלה - אופטיקה הדר",
      ("שלום {name},", "מצ״ב חשבונית מס קבלה.", "{date}"), items="health", extras=("tax",), pdf="attach"),
    H("sumit", "il_invoicing", "נגריית העמק", ("נגריית העמק", "docs@sumit.co.il"), "נגריית העמק: מסמך חדש",
      ("לכבוד {name},", "מצורפת חשבונית מס/קבלה מספר {order}.", "תודה שבחרתם בנו!"), items="generic", extras=("tax",)),

    # -- link-only --------------------------------------------------------------------
    H("link_he_1", "link_only", "מרכז הספורט", ("מרכז הספורט", "noreply@greeninvoice.co.il"), "הקבלה שלך ממרכז הספורט",
      ("שלום {name},", "התשלום בסך {total} התקבל. תודה!", "לצפייה בקבלה לחצו כאן: https://app.greeninvoice.co.il/d/abc"),
      block=False),
    H("link_he_2", "link_only", "אלקטרה", ("אלקטרה צריכה", "service@electra.co.il"), "הקבלה הדיגיטלית שלך",
      ("לקוח יקר,", "תודה על רכישתך. סכום העסקה: {total}.", "להורדת החשבונית: https://e.electra.co.il/inv/123",
       "תאריך: {date}"), block=False),

    # -- PDF-only -----------------------------------------------------------------------
    H("pdf_he_1", "pdf_only", "משרד עורכי דין לוי", ("משרד עורכי דין לוי", "office@levi-law.co.il"), "חשבונית",
      ("שלום,", "מצורפת חשבונית עבור החודש.", "בברכה,", "הנהלת חשבונות"), items="fee", pdf="only"),
    H("pdf_he_2", "pdf_only", "הגן הירוק", ("הגן הירוק", "gan.hayarok@gmail.com"), "קבלה",
      ("מצורף",), items="course", pdf="only", pdf_name="scan0001.pdf"),
    H("pdf_he_3", "pdf_only", "ועד הבית", ("ועד הבית רחוב הגפן 12", "vaad.hagefen@gmail.com"), "קבלה על תשלום ועד בית {month}",
      ("שלום לכולם, מצורפת הקבלה.",), items="fee", pdf="only", pdf_name="kabala.pdf"),

    # -- grocery ---------------------------------------------------------------------
    H("shufersal", "grocery", "שופרסל", ("שופרסל אונליין", "online@shufersal.co.il"), "ההזמנה שלך סופקה - חשבונית",
      ("שלום {name},", "ההזמנה שלך נלקטה ונמסרה.", "החיוב הסופי לאחר הליקוט: {total}", "מספר הזמנה {order}"), items="grocery",
      estimate=True, labels={"estimate": "סה״כ הזמנה משוער"}),
    H("rami_levy", "grocery", "רמי לוי", ("רמי לוי שיווק השקמה", "online@rami-levy.co.il"), "חשבונית עבור הזמנה {order}",
      ("תודה שקנית ברמי לוי!", "סכום סופי שחויב: {total}", "תאריך אספקה {date}"), items="grocery", estimate=True,
      labels={"estimate": "סכום ההזמנה לפני ליקוט"}),
    H("yochananof", "grocery", "יוחננוף", ("יוחננוף", "online@yochananof.co.il"), "סיכום קנייה - יוחננוף",
      ("שלום {name},", "תודה על קנייתך.", "{date}"), items="grocery", extras=("discount",), labels={"discount": "הנחת מועדון"}),

    # -- streaming ------------------------------------------------------------------
    H("yes", "streaming", "yes", ("yes", "billing@yes.co.il"), "חשבונית yes לחודש {month}",
      ("מנוי/ה יקר/ה,", "החשבון החודשי שולם בהוראת קבע.", "מספר מנוי {order}"), items="utility",
      labels={"total": "סה״כ שולם"}),
    H("netflix_he", "streaming", "Netflix", ("Netflix", "info@account.netflix.com"), "התשלום שלך עבור Netflix",
      ("היי {name},", "תודה על התשלום. אלה הפרטים.", "תאריך התשלום: {date}"), items="saas", labels={"total": "סכום"}),
    H("spotify_he", "streaming", "Spotify", ("Spotify", "no-reply@spotify.com"), "הקבלה שלך מ-Spotify Premium",
      ("תודה על הרכישה.", "מזהה הזמנה: {order}", "תאריך: {date}"), items="saas", labels={"total": "סה״כ"}),

    # -- small shops ----------------------------------------------------------------
    H("shop_he_1", "shops", "פרחי השרון", ("פרחי השרון", "shop@flowers-sharon.co.il"), "תודה על הזמנתך #{order}",
      ("שלום {name},", "קיבלנו את הזמנתך והתשלום עבר בהצלחה.", "{date}"), items="shop", extras=("shipping",)),
    H("shop_he_2", "shops", "Terminal X", ("Terminal X", "service@terminalx.com"), "אישור הזמנה מספר {order}",
      ("היי {name}, ההזמנה שלך התקבלה!", "נעדכן אותך כשתצא למשלוח."), items="shop", extras=("discount", "shipping"),
      labels={"total": "סה״כ ששולם", "discount": "קופון"}),
    H("shop_he_3", "shops", "סטימצקי", ("סטימצקי", "online@steimatzky.co.il"), "הזמנתך בסטימצקי התקבלה",
      ("תודה שקנית אצלנו!", "מספר הזמנה {order}", "תאריך הזמנה {date}"), items="shop", labels={"total": "סה״כ לתשלום"}),

    # -- fuel -----------------------------------------------------------------------
    H("paz", "fuel", "פז", ("פז יילו", "noreply@paz.co.il"), "קבלה על תדלוק",
      ("תודה שתדלקת בפז!", "תחנה: פז גלילות", "{date}", "מספר עסקה {order}"), items="fuel", labels={"total": "סה״כ"}),
    H("delek", "fuel", "דלק", ("דלק מנטה", "service@delek.co.il"), "אישור עסקה - דלק",
      ("שלום {name},", "חויבת בסך {total} עבור תדלוק בתאריך {date}."), block=False),
    H("sonol", "fuel", "סונול", ("סונול", "digital@sonol.co.il"), "חשבונית תדלוק",
      ("קבלה דיגיטלית", "{date}"), items="fuel", extras=("tax",)),

    # -- health ---------------------------------------------------------------------
    H("superpharm", "health", "סופר-פארם", ("סופר-פארם", "digital@super-pharm.co.il"), "הקבלה הדיגיטלית שלך מסופר-פארם",
      ("תודה שקנית בסופר-פארם!", "סניף דיזנגוף סנטר", "{date}"), items="health", extras=("discount",),
      labels={"discount": "הנחת לייף סטייל"}),
    H("maccabi", "health", "מכבי", ("מכבי שירותי בריאות", "noreply@mac.org.il"), "אישור תשלום - מכבי",
      ("שלום {name},", "התשלום עבור שירותי הבריאות התקבל.", "מספר אסמכתא {order}", "{date}"), items="health",
      labels={"total": "סכום ששולם"}),
    H("dentist_he", "health", "מרפאת שיניים חיוך", ("מרפאת שיניים חיוך", "clinic@smile-dental.co.il"), "קבלה על טיפול",
      ("שלום {name},", "תודה על ביקורך.", "קבלה מספר {order}", "תאריך {date}"), items="health"),

    # -- education ---------------------------------------------------------------------
    H("open_uni", "education", "האוניברסיטה הפתוחה", ("האוניברסיטה הפתוחה", "noreply@openu.ac.il"), "אישור תשלום שכר לימוד",
      ("סטודנט/ית יקר/ה,", "התשלום עבור שכר הלימוד לסמסטר התקבל.", "מספר קבלה {order}", "תאריך {date}"), items="course"),
    H("campus_il", "education", "קמפוס IL", ("קמפוס IL", "noreply@campus.gov.il"), "קבלה על רכישת קורס",
      ("תודה על הרשמתך לקורס.", "תאריך רכישה: {date}"), items="course", labels={"total": "סכום ששולם"}),

    # -- tickets -----------------------------------------------------------------------
    H("leaan", "tickets", "לאן", ("לאן", "tickets@leaan.co.il"), "הכרטיסים שלך להופעה",
      ("שלום {name},", "הזמנתך התקבלה ושולמה.", "מספר הזמנה {order}", "תאריך ההזמנה {date}"), items="ticket",
      extras=("fee",), labels={"fee": "דמי טיפול"}),
    H("eventim_il", "tickets", "איוונטים", ("איוונטים", "noreply@eventim.co.il"), "אישור רכישת כרטיסים",
      ("רכישת הכרטיסים בוצעה בהצלחה!", "קוד הזמנה {order}"), items="ticket", labels={"total": "סה״כ חויב"}),
    H("cinema_city", "tickets", "סינמה סיטי", ("סינמה סיטי", "tickets@cinema-city.co.il"), "הכרטיסים שלך לסרט",
      ("תודה שרכשת כרטיסים בסינמה סיטי.", "מספר הזמנה: {order}", "{date}"), items="ticket", labels={"total": "סה״כ"}),

    # -- person to person and payment apps -------------------------------------------------
    H("bit", "p2p", "מאפיית השכונה", ("bit", "noreply@bit.co.il"), "העברת כסף בוצעה",
      ("שלחת {total} למאפיית השכונה באמצעות bit.", "תאריך {date}", "אסמכתא {order}"), block=False),
    H("paybox", "p2p", "חוג הציור של מיכל", ("PayBox", "noreply@payboxapp.com"), "התשלום שלך בקבוצה חוג הציור של מיכל",
      ("שילמת {total} בקבוצה חוג הציור של מיכל.", "{date}"), block=False),
    H("pepper_pay", "p2p", "שיפוצים ישיר", ("Pepper Pay", "noreply@pepper.co.il"), "התשלום לשיפוצים ישיר בוצע",
      ("התשלום בוצע בהצלחה", "שולם לשיפוצים ישיר: {total}", "מספר אסמכתא {order}", "{date}"), block=False),
]
