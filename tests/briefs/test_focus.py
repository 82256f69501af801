"""The customer-focus meter: explained, configurable, never blocking."""

from __future__ import annotations

from callprep.briefs.focus import customer_terms, measure

TERMS = customer_terms("Acme Fictional Corp", ["Dana Buyer"])


def test_customer_terms_include_the_name_its_first_word_and_their_people():
    assert set(TERMS) == {"Acme Fictional Corp", "Acme", "Dana Buyer", "Dana", "Buyer"}


def test_text_about_the_customer_scores_high():
    text = (
        "Acme closes its books in 12 days. Their CFO Dana Buyer wants 20. They run three ERPs "
        "and their board asked for a plan by September; they fear losing 3 % of revenue to "
        "billing errors in their largest region this year."
    )
    focus = measure(text, terms=TERMS, words=40)

    assert focus.score >= 70
    assert focus.label == "About the customer"
    assert focus.explanation().startswith("10 mentions of the customer (")


def test_text_about_us_scores_low_and_counts_our_product_names(settings):
    settings.SALESPREP_OUR_PRODUCT_NAMES = ["LedgerPro", "Flow Suite"]
    text = (
        "We are the leader. Our LedgerPro platform and our Flow Suite give us an edge; we "
        "will show our roadmap and our partner network, and we can demo LedgerPro live."
    )
    focus = measure(text, terms=TERMS, words=35)

    assert focus.us == {"our products": 3, "we/our": 8}
    assert focus.score == 0
    assert focus.label == "About us"


def test_short_text_is_not_judged():
    focus = measure("They grow.", terms=TERMS, words=2)

    assert focus.score is None
    assert focus.explanation() == "Write at least 30 words for a focus reading."
