"""The guard on a semantic cache hit: two inputs that embed alike may still ask different things.

A hit is served only when both inputs carry the same anchors, in the same order: every number (amounts and
dates are numbers here: `$1,200.50` is 1200.5, `2024-03-05` is 2024, 3, 5), every identifier (a token mixing
letters and digits, or with `_`/`-` inside: `INV-42`, `user_id`), every proper name or acronym (a capitalised
word, `TV`, unless it is a common word opening a sentence; each name once, where it first appears, without
its possessive), and every negation (`not`, `no`, `never`, `n't`, `without`). Order matters,
so "convert USD to EUR" does not answer "convert EUR to USD", nor "Is Ana older than Bo?" its reversal.
GPTCache's known false hits are the cases it must stop: a question and its reversal, and "what is the
function of TV" served the answer about money.

Example:
    >>> guard_refuses("What is the function of TV?", "What is the function of money?")
    'names differ: tv vs –'
    >>> guard_refuses("Sum the March invoices, please", "please sum the March invoices") is None
    True
"""

from __future__ import annotations

import re
from typing import Any

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])|(?<![\w.])[-+]?\.\d+(?!\w)")
TOKEN = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?|_\w+", re.UNICODE)
NEGATIONS = {"not", "no", "never", "none", "nothing", "without", "cannot", "nor"}
SENTENCE_END = re.compile(r"[.!?:;]\s*$|^\s*$")
# words that open a sentence without being names: a capitalised word at a sentence start is a name unless listed
OPENERS = set("""a an the this that these those it its i we you he she they my our your their there here what which
who whom whose when where why how is are was were be been do does did can could will would shall should may might
must has have had please and but or so if then also yes ok okay hi hello dear thanks thank sum add find give get
tell show list calculate compute convert count many much name write make return total each every some all any
after before during while since until once on in at for with from by to of as into onto over under about his him
hers her them us me mine ours yours theirs first then next finally later now today also both either neither
another other such only just""".split())
KINDS = ("numbers", "identifiers", "names", "negations")
# number words read as numbers, so "three" and "3" agree and "three" → "four" is caught
NUMBER_WORDS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                           "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                 "hundred": 100, "thousand": 1000, "million": 10**6, "dozen": 12, "half": 0.5, "twice": 2, "double": 2,
                 "triple": 3, "once": 1}


def _number(text: str) -> str:
    value = float(text.replace(",", ""))
    return f"{value:g}" if abs(value) < 1e15 else text


def _is_identifier(token: str) -> bool:
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    return (has_digit and has_alpha) or "_" in token


def anchors(value: Any) -> dict[str, list[str]]:
    """The anchors of a text, or of every string and number in a JSON-like value (dict values in key order).

    >>> anchors("Please ship order AB-12 to Lisbon by 2024-03-05, not later")["names"]
    ['lisbon']
    """
    found: dict[str, list[str]] = {k: [] for k in KINDS}
    for text in _texts(value):
        rest = text  # the text less its identifiers: the 7 of INV-7 is not a number of its own
        numbers: list[tuple[int, str]] = []  # (position, value): digits and number words in text order
        for m in TOKEN.finditer(text):
            token = m.group()
            lower = token.lower()
            words = [w for w in lower.split("-") if w in NUMBER_WORDS]  # forty-two, one-third: the number words in it
            if words:
                numbers += [(m.start() + n, _number(str(NUMBER_WORDS[w]))) for n, w in enumerate(words)]
            elif _is_identifier(token):
                found["identifiers"].append(lower)
                rest = rest[: m.start()] + " " * len(token) + rest[m.end():]
            elif token == "I":
                continue
            elif lower in NEGATIONS or lower.endswith(("n't", "n’t")):
                found["negations"].append("not")
            elif token[0].isupper() and (token.isupper() and len(token) > 1 or _bare(lower) not in OPENERS
                                         or not SENTENCE_END.search(text[: m.start()])):
                if _bare(lower) not in found["names"]:  # each name once, where it first appears
                    found["names"].append(_bare(lower))
        numbers += [(m.start(), _number(m.group())) for m in NUMBER.finditer(_dates_split(rest))]
        found["numbers"] += [n for _, n in sorted(numbers)]
    return found


def _bare(word: str) -> str:
    """A word without its possessive: Janet's and Janet are one name."""
    return re.sub(r"['’]s$", "", word)


def _dates_split(text: str) -> str:
    # 2024-03-05 and 05/03/2024 read as three numbers, not one negative number
    return re.sub(r"(?<=\d)[-/](?=\d)", " ", text)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool) or value is None:
        return [str(value).lower()] if isinstance(value, bool) else []
    if isinstance(value, (int, float)):
        return [repr(value)]
    if isinstance(value, dict):
        return [t for k in sorted(value) for t in _texts(value[k])]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    return [str(value)]


def guard_refuses(new: Any, cached: Any) -> str | None:
    """Why the cached input's answer must not serve the new input (None: the anchors agree, the hit may serve).

    >>> guard_refuses("Is Ana older than Bo?", "Is Bo older than Ana?")
    'names differ: ana, bo vs bo, ana'
    """
    a, b = anchors(new), anchors(cached)
    for kind in KINDS:
        if a[kind] != b[kind]:
            return f"{kind} differ: {', '.join(a[kind]) or '–'} vs {', '.join(b[kind]) or '–'}"
    return None
