"""Relative dates resolved against a document's date (rag/dates.py)."""
import pytest

from rag.dates import annotate, document_date_answer, format_date, has_date, relative_dates


def resolved(sentence: str, doc_date: str) -> list[tuple[str, str]]:
    return [(sentence[a:b], res) for a, b, res in relative_dates(sentence, doc_date)]


@pytest.mark.parametrize("sentence, doc_date, expected", [
    # 2024-03-01 is a Friday after a leap day
    ("It rained yesterday.", "2024-03-01", [("yesterday", "2024-02-29")]),
    ("It rained yesterday.", "2023-03-01", [("yesterday", "2023-02-28")]),
    ("Tomorrow is a holiday.", "2024-12-31", [("Tomorrow", "2025-01-01")]),
    ("The day before yesterday he left.", "2024-01-01", [("The day before yesterday", "2023-12-30")]),
    # past tense: the most recent such weekday on or before the document date, across month and year boundaries
    ("They met on Thursday.", "2024-07-11", [("Thursday", "2024-07-11")]),
    ("They met on Sunday.", "2024-01-02", [("Sunday", "2023-12-31")]),
    ("They met on Wednesday.", "2024-03-01", [("Wednesday", "2024-02-28")]),
    ("He resigned last Friday.", "2024-03-01", [("last Friday", "2024-02-23")]),
    ("He resigned last Tuesday.", "2024-03-01", [("last Tuesday", "2024-02-27")]),
    # future: the next one
    ("The vote will take place on Monday.", "2024-12-28", [("Monday", "2024-12-30")]),
    ("Talks resume next Friday.", "2024-12-27", [("next Friday", "2025-01-03")]),
    ("Talks resume next Saturday.", "2024-12-27", [("next Saturday", "2024-12-28")]),
    # weeks, months, years
    ("Prices rose last week.", "2024-07-11", [("last week", "the week of 1 July 2024")]),
    ("Prices rose this week.", "2024-01-03", [("this week", "the week of 1 January 2024")]),
    ("Prices rose last week.", "2024-01-03", [("last week", "the week of 25 December 2023")]),
    ("Sales fell last month.", "2024-01-15", [("last month", "December 2023")]),
    ("Sales fell last year and will rise next year.", "2024-05-05", [("last year", "2023"), ("next year", "2025")]),
    ("Tonight and this morning.", "2024-07-11", [("Tonight", "2024-07-11"), ("this morning", "2024-07-11")]),
    ("The 1530 edition appeared in July.", "2024-07-11", []),
    # a day of the week that recurs is not a date
    ("Core hours are 10:00 to 16:00, Monday to Friday.", "2025-03-03", []),
    ("The desk is open Monday–Friday and every Saturday.", "2025-03-03", []),
    ("They met on Thursday and left on Friday.", "2025-03-03", [("Thursday", "2025-02-27"), ("Friday", "2025-02-28")]),
    ("Talks resume next Friday to Sunday.", "2024-12-27", [("next Friday", "2025-01-03")]),
    # after "the", relative to a time the text speaks of, not to the document's date
    ("Up to five unused days may be carried over into the next year.", "2025-03-03", []),
    ("It grew in the last week of June and fell the next Friday.", "2025-07-30", []),
    ("In the last year, sales fell; next year they will rise.", "2025-03-03", [("next year", "2026")]),
])
def test_relative_dates(sentence, doc_date, expected):
    assert resolved(sentence, doc_date) == expected


def test_offsets_point_into_the_sentence():
    s = "Yesterday Ardern spoke; last week Luxon met Marles, and on Friday they will meet again next month."
    for a, b, _ in relative_dates(s, "2024-07-11"):
        assert s[a:b].strip() == s[a:b] and s[a:b]


def test_annotate_the_issue_example():
    assert annotate("Yesterday, Luxon went to a dinner with leaders.", "2024-07-11") == \
        "Yesterday (10 July 2024), Luxon went to a dinner with leaders."
    assert annotate("It rained yesterday and last week.", "2024-03-01") == \
        "It rained yesterday (29 February 2024) and last week (the week of 19 February 2024)."


@pytest.mark.parametrize("doc_date", [None, ""])
def test_no_document_date_leaves_the_sentence_unchanged(doc_date):
    s = "Yesterday, Luxon went to a dinner."
    assert annotate(s, doc_date) == s


def test_nothing_relative_leaves_the_sentence_unchanged():
    s = "The summit opened on 9 July 2024 in Washington."
    assert annotate(s, "2024-07-11") == s


def test_format_date():
    assert format_date("2024-07-11") == "11 July 2024"
    assert format_date("2024-02-29") == "29 February 2024"


@pytest.mark.parametrize("sentence, expected", [
    ("The summit opened on 9 July 2024.", True),
    ("Luther published it in 1530.", True),
    ("It grew in the 1990s.", True),
    ("He spoke yesterday.", True),
    ("He met them on Thursday.", True),
    ("Marles represented Australia.", False),
    ("The team had 24 interceptions.", False),
])
def test_has_date(sentence, expected):
    assert has_date(sentence) is expected


def test_a_when_question_falls_back_to_the_document_date():
    assert document_date_answer("Luxon met Marles at the summit.", "2024-07-11") == "published 11 July 2024"
    assert document_date_answer("Luxon met Marles on 9 July 2024.", "2024-07-11") is None
    assert document_date_answer("Luxon met Marles yesterday.", "2024-07-11") is None
    assert document_date_answer("Luxon met Marles at the summit.", None) is None


def test_a_short_answer_is_annotated_in_the_context_of_its_sentence():
    """The lead phrase is a piece of a quoted sentence: its dates are read with the whole sentence (a range, the
    tense), so "Friday" out of "Monday to Friday" is not given a date, and "Friday" of "will arrive on Friday" is
    the next one."""
    import doctest

    from rag import dates

    assert doctest.testmod(dates).failed == 0
    hours = "Core hours are 10:00 to 16:00, Monday to Friday."
    a = hours.index("Friday")
    assert annotate(hours, "2025-03-03", a, a + 6) == "Friday"
    arrive = "He will arrive on Friday, his aide said yesterday."
    a = arrive.index("Friday")
    assert annotate(arrive, "2024-07-11", a, a + 6) == "Friday (12 July 2024)"
    assert annotate(arrive, None, a, a + 6) == "Friday"



def test_minutes_dated_in_their_title_line_resolve_their_weekdays(tmp_path):
    from rag.loaders import load
    (tmp_path / "minutes.txt").write_text(
        "Allotment Society — minutes of the annual general meeting, 14 September 2024\n\n"
        "The autumn open day will be held on Saturday 12 October. The next committee meeting is on Tuesday.\n",
        encoding="utf-8")
    (doc,) = load(tmp_path).documents
    assert doc.date == "2024-09-14"
    # a weekday with its date written out is left alone; "the next meeting … on Tuesday" is the coming Tuesday
    assert annotate(doc.text.splitlines()[2], doc.date) == (
        "The autumn open day will be held on Saturday 12 October. The next committee meeting is on Tuesday "
        "(17 September 2024).")
