"""Candidate theme labels cut from one comment, in the citizen's own words.

A candidate is 3-8 words of a clause: the clause itself, or a start of it that
stops where a phrase ends (before "in", "to", "so", "because" ..., never on
"the" or "is", nor on a word that needs what follows: "based", "lead", "the
right"). Clauses start at punctuation and connectives, and also inside a
sentence where its point begins ("the problem is that | X", "X so | Y", "X as
| it Y"). Each comment is also read without its hedges ("really", "just", "I
think" ...), so "Capital punishment is just ineffective" offers "Capital
punishment is ineffective" too. A leading pronoun is replaced by what it
stands for: the sentence's subject ("it eases suffering" -> "Assisted
suicide eases suffering"), or, when the subject is a person ("we should
ban X because it ..."), the thing acted on ("X ..."). A candidate still
opening on a pronoun ("It could become partial", "This gives ...") names
nothing on a screen of its own and is dropped.

``theming/naming.py`` chooses among the candidates of a theme's members.
"""

from __future__ import annotations

import re

__all__ = ["MAX_WORDS", "MIN_WORDS", "label_phrases"]

MIN_WORDS, MAX_WORDS = 3, 8

# Words that open a new clause ("X because Y" -> "X", "Y"). Not "as" or "that":
# they join within a phrase ("not as harmful as alcohol").
_CONNECTIVES = (
    "because|since|but|and|which|while|whereas|although|though|if|when|however|therefore|thus"
)
_LEADING = re.compile(
    rf"^(?:(?:so|as) long as|{_CONNECTIVES}|so|as|that|or|also|yet|hence|i think|i believe"
    r"|in my opinion"
    r"|it is true that)"
    r"\b(?!['’])[\s,]*",  # not the "that" of "that's"
    re.I,
)
_ASIDE = re.compile(r"\s*\([^()]*\)\s*")
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
_CLAUSE = re.compile(
    rf",\s+|\s+[-–—]\s+|\s\(|\)\s|\s+(?=(?:{_CONNECTIVES}|(?:as|so) long as)\b(?!/))", re.I
)
# "so" after these, or before these, is an adverb ("is so outdated", "so much").
_SO_ADVERB_AFTER = set("is are was were not be do did".split())
_SO_ADVERB_BEFORE = set("long much many far called".split())
# Where a sentence's point starts inside a clause: after "is that", "so"
# (not the adverb of "is so outdated"), "to ensure", or "as" before a new
# subject ("ageist as | it is outdated").
_INNER = re.compile(
    r"\b(?:(?:is|was|means) that|so that|to ensure(?: that)?|"
    + "".join(rf"(?<!\b{w} )" for w in sorted(_SO_ADVERB_AFTER))
    + rf"so(?!\s+(?:{'|'.join(sorted(_SO_ADVERB_BEFORE))})\b)"
    r"|as(?=\s+(?:it|they|this|these|there|we|people|he|she)\b))\s+",
    re.I,
)
# Words that only hedge or stress; a second reading of the comment goes
# without them. Not "just" as in "the only just punishment".
_HEDGES = re.compile(
    r"\b(?:really|very|definitely|truly|extremely|highly|quite|simply|basically|actually"
    r"|certainly|clearly|totally|absolutely|completely|merely|also|still|i feel|i think"
    r"|i believe|(?<!\bthe )(?<!\bonly )(?<!\ba )just)\b\s*",
    re.I,
)
# Words a phrase may not end on: it would stop mid-phrase.
_DANGLING = set(
    "the a an of to for with and or but in on at by is are be been was were that which who "
    "their his her its our your my this these those very more most less as than from into "
    "not no so if because while when it they we i you he she them us can will would should "
    "could must has have had do does did how what why whether".split()
)
# Words that need what follows them ("based | on", "the right | to vote",
# "could lead | to"): a cut short of the clause's end may not stop on one.
_NEEDS_MORE = set(
    "based due able unable according compared related lead leads led leading rely relies "
    "depend depends deal deals result results resulted consist consists belong belongs refer "
    "refers prone similar along going want wants wanted need needs try tries tend tends seem "
    "seems used ought likely unlikely begin begins start starts continue continues afford "
    "decide decides choose chooses plan plans willing supposed expected right rights chance "
    "ability opportunity opportunities freedom way ways allows allow helps help enables "
    "enable forces force causes cause encourages encourage makes make lets let pick picks picked "
    "picking get gets puts put ensures ensure obliged abide incompatible compatible rather "
    "especially entitled even instead other acting away just very really simply quite mean "
    "means meant".split()
)
# Words that open a new constituent: a phrase cut short of its clause's end
# must stop just before one ("Nuclear weapons are dangerous | in the hands of
# ...", "Homeschooling is not regulated | so students ..."), else it would stop
# mid-phrase ("... would give the government control over").
_BOUNDARY = set(
    "in on at for with without by from into onto during through throughout over under about "
    "against after before because cause since so as due unless until like than when where "
    "while whereas which who whom whose that instead despite especially particularly including "
    "such among between beyond within upon toward towards across around along if or and but "
    "even to".split()
)
_PRONOUNS = {"it", "they", "this", "these", "he", "she"}
_CONDITIONS = {"if", "when", "unless", "until", "while", "as"}
_WHO = {"who", "whom", "whose"}
# A clause opening on a verb lost its subject to the split ("marriage is old
# and | is important for society"): it is the sentence's subject, or no label.
_VERB_FIRST = set(
    "is are was were has have had can could should would will may might must does do did "
    "often always never usually sometimes includes".split()
)
# A condition is not a claim: "if prostitution was legal" says nothing was. An
# "if" clause is offered whole with its "if" ("If nuclear weapons fall into the
# wrong hands" names a fear); the others ("once they pass", "as long as the
# hours stay long") and examples ("such as terrorist groups") only qualify
# their sentence and give no label.
_RELATIVE = re.compile(r"^(?:that|which|who)\b", re.I)
_HYPOTHETICAL = re.compile(
    r"^(?:if|unless|once|whether|provided|(?:so|as) long as|such as|for example|for instance"
    r"|including|like)\b",
    re.I,
)
# Verbs whose object needs what follows ("puts women | in danger", "allows
# priests | to focus"): a cut may not stop just after their object.
_OBJECT_AND_MORE = set(
    "put puts putting place places allow allows enable enables force forces let lets "
    "encourage encourages".split()
)
# "the right to choose | how to educate them": a choice is a whole claim
# before what is chosen, so a cut may stop there although "choose" would
# otherwise need its object.
_CHOICE = set("choose chooses decide decides".split())
_WH = set("how what which whether when where who".split())
# Openings that stand for something said elsewhere: not a label on their own.
_UNRESOLVED = _PRONOUNS | {"that", "then", "them", "those", "its", "their"}
# A candidate opening on one of these is a fragment ("because | of the dangers").
_NO_OPENING = _UNRESOLVED | {"of"}
# An object that points back at an earlier sentence names nothing: "Protect
# that with safe streets" (after "Kids can still ride their bikes to school"),
# "Keep it open" (after "... the old pier at Riverside Park").
_POINTS_BACK = re.compile(
    r"^\S+\s+(?:it|them)\b"  # "Keep it open" (not "Programs that help", "Save these trees")
    r"|\s(?:that|this|it|them|those|these)(?:$|\s+(?:with|for|by|in|on|at|to|from|and|or)\b)",
    re.I,
)
# A subject that is a person: "it" in the sentence means what the person
# acts on ("we should ban X because it ..."), never the person.
_PERSONS = {"we", "i", "you", "people", "everyone", "society", "government", "governments"}
_PLURALS = {"people", "children", "men", "women"}
_MODAL = re.compile(
    r"(?:should|must|shall|cannot|can't|can|could|would|(?:need|needs|have|has|ought) to)"
    r"(?: not)?",
    re.I,
)
# "keep the library open": the words after the verb are not one thing.
_COMPLEMENT_VERBS = set("keep make leave get let have find render turn set hold".split())
# "it" that stands for nothing ("it would be a shame to ...", "it is
# illegal to ..."): not replaced by the sentence's subject.
_EXPLETIVE = re.compile(
    r"^it (?:is|was|'s|would be|will be|can be|could be)\b.*\b(?:to|that)\b", re.I
)
# Verbs that end a sentence's subject ("assisted suicide | should be allowed").
_SUBJECT_ENDS = set(
    "should is are would will can must has have was were does do could may might need needs "
    "helps help makes make causes cause allows allow leads lead gives give provides provide "
    "creates create brings bring reduces reduce increases increase shouldn't can't cannot won't "
    "isn't aren't doesn't don't wouldn't couldn't mustn't wasn't weren't".split()
)


def label_phrases(text: str) -> list[str]:
    """Candidate labels cut from one comment, in reading order, without repeats."""
    # "Sex selection (for non medical reasons) is unethical": read without the
    # aside, which would split the sentence in two fragments.
    text = " ".join(_ASIDE.sub(" ", text).split()) or " ".join(text.split())
    readings = (text, _unhedged(text))
    found: list[str] = []
    for reading in dict.fromkeys(readings):
        for sentence in _SENTENCE.split(reading):
            found.extend(_sentence_phrases(sentence.strip().rstrip(".!?;:").split()))
    return [
        p
        for p in dict.fromkeys(found)
        if _opening(p) not in _NO_OPENING and not _POINTS_BACK.search(p)
    ]


def _opening(phrase: str) -> str:
    """A phrase's first word, lower case, without a contraction ("it's": "it")."""
    return re.split(r"['’]", phrase.split()[0].lower(), maxsplit=1)[0]


def _unhedged(text: str) -> str:
    return " ".join(_HEDGES.sub("", text).split())


def _sentence_phrases(words: list[str]) -> list[str]:
    sentence = " ".join(words)
    main = _LEADING.sub("", sentence).split()  # "therefore it ...": the subject is "it"
    inner = [_CLAUSE.split(sentence[m.end() :], maxsplit=1)[0] for m in _INNER.finditer(sentence)]
    clauses = _CLAUSE.split(sentence) + inner
    found: list[str] = []
    for k, clause in enumerate(clauses):
        following = (clauses[k + 1] if k + 1 < len(clauses) else "").lower().split()
        if following and _cuts_restriction(clause.lower().split(), following[0]):
            continue
        # "allows priests | and nuns to concentrate": the "and" joins two
        # objects of one verb, which still needs what follows them.
        if following[:1] in (["and"], ["or"]) and _object_left_hanging(clause.lower().split()):
            continue
        condition, relative = "", False
        for _ in range(2):
            if not condition and (m := _HYPOTHETICAL.match(clause.strip())):
                condition = m.group(0).lower()
            relative = relative or bool(_RELATIVE.match(clause.strip()))
            clause = _LEADING.sub("", clause.strip()).strip()
        parts = clause.split()
        if not parts:
            continue
        if condition:  # kept as one: "If nuclear weapons fall into the wrong hands"
            if condition == "if" and parts[0].lower() not in _UNRESOLVED | _PERSONS:
                found.extend(_cuts(["If", *parts]))
            continue
        first = parts[0].lower()
        if first in _VERB_FIRST:  # "X is good and | can cause harm": X can cause harm
            subject = _subject(main)
            # After "that"/"which" the verb's subject is that word's antecedent
            # ("plan their family and that | includes ..."), not the sentence's.
            if subject is not None and not _is_person(subject) and not relative:
                found.extend(_cuts(subject + parts))
            continue
        found.extend(_cuts(parts))
        if _EXPLETIVE.match(clause) or first not in _PRONOUNS:
            continue
        if meant := _antecedent(parts[0], main):
            found.extend(_cuts(meant + parts[1:]))
    return found


def _subject(words: list[str]) -> list[str] | None:
    for k, word in enumerate(words[:6]):
        if word.lower() in _SUBJECT_ENDS and 1 <= k <= 4:
            subject = words[:k]
            return None if subject[0].lower() in _PRONOUNS else subject
    return None


def _is_person(words: list[str]) -> bool:
    return len(words) == 1 and words[0].lower() in _PERSONS


def _object(words: list[str]) -> list[str] | None:
    """What "we should ban X ..." acts on: X, up to where its phrase ends."""
    rest = " ".join(w.lower() for w in words[1:])
    modal = _MODAL.match(rest)
    if modal is None or not rest[modal.end() :].startswith(" "):
        return None
    verb = 1 + len(rest[: modal.end()].split())
    if verb >= len(words) or words[verb].lower() in _COMPLEMENT_VERBS:
        return None
    found: list[str] = []
    for word in words[verb + 1 : verb + 7]:
        if word.lower().strip(",\"'") in _BOUNDARY:
            break
        found.append(word.strip(",.;:\"'"))
        if word.endswith((",", ".", ";", ":")):
            break
    while found and found[-1].lower() in _DANGLING:
        found.pop()
    if not 1 <= len(found) <= 5 or found[0].lower() in _UNRESOLVED | _PERSONS:
        return None
    return found


def _antecedent(pronoun: str, words: list[str]) -> list[str] | None:
    """What a leading ``pronoun`` of a clause in the sentence ``words`` stands
    for: its subject, or, after a person ("we should ban X because it ..."),
    what the person acts on. "they"/"these" only for a plural-looking one
    ("they should have that choice" is about people, not assisted suicide)."""
    subject = _subject(words)
    if subject is None:
        return None
    choices = [subject]
    if _is_person(subject):
        choices.append(_object(words) or [])
    return next((c for c in choices if c and _refers_to(pronoun, c)), None)


def _refers_to(pronoun: str, subject: list[str]) -> bool:
    word, head = pronoun.lower(), subject[-1].lower()
    if word in ("it", "this"):
        return head not in _PERSONS
    plural = head in _PLURALS or (head.endswith("s") and not head.endswith("ss"))
    return word in ("they", "these") and plural


def _cuts_restriction(words: list[str], after: str) -> bool:
    """Whether stopping ``words`` (lower case) before ``after`` drops what an
    "only" hangs on: "Nuclear weapons are only safe | if ...", "families are
    only permitted | to ..."."""
    return "only" in words and (after in _CONDITIONS or after == "to")


def _object_left_hanging(words: list[str]) -> bool:
    """Whether ``words`` (lower case) stop just after the object of a verb
    that needs more ("allows a priest | to focus", "puts women | in danger")."""
    return bool(_OBJECT_AND_MORE.intersection(words[-3:-1]))


def _cuts(words: list[str]) -> list[str]:
    """The clause itself and its shorter starts that end a constituent."""
    cuts: list[str] = []
    lowered = [w.lower().strip(",\"'") for w in words]
    for length in range(MIN_WORDS, min(MAX_WORDS, len(words)) + 1):
        last = lowered[length - 1]
        if last in _DANGLING or last.endswith(("'s", "’s")):
            continue
        if length < len(words):
            after = lowered[length]
            if (last in _NEEDS_MORE or after not in _BOUNDARY) and not (
                last in _CHOICE and after in _WH
            ):
                continue
            # "allows a priest | to focus": the verb's object needs its "to".
            if after == "to" and _NEEDS_MORE.intersection(lowered[length - 4 : length]):
                continue
            if _object_left_hanging(lowered[:length]):
                continue
            if _cuts_restriction(lowered[:length], after):
                continue
            # "businesses owned by people | who live here": who they are is the point.
            if after in _WHO:
                continue
            # "Curb ramps on every corner so people | in wheelchairs ...": a
            # clause opened by "so" needs its verb ("... so kids can ride").
            if _verbless_so(lowered[:length]):
                continue
        phrase = " ".join(words[:length]).strip(",\"'")
        cuts.append(phrase[:1].upper() + phrase[1:])
    return cuts


def _verbless_so(words: list[str]) -> bool:
    """Whether ``words`` (lower case) end in a clause opened by the conjunction
    "so" (not "is so outdated", "so much") before any verb of it."""
    for k in range(len(words) - 1, 0, -1):
        if words[k] in _SUBJECT_ENDS:
            return False
        if words[k] == "so" and words[k - 1] not in _SO_ADVERB_AFTER:
            following = words[k + 1] if k + 1 < len(words) else ""
            return following not in _SO_ADVERB_BEFORE
    return False
