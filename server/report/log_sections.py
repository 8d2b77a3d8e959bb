"""The theme team's curation log as sentences a reader can follow:
"14:02 Ana merged 'Parking' into 'Traffic and parking' (12 comments)".

Each log row keeps the op's before/after summaries (``theming/curation.py``,
``server/themes/workbench.py``); this module only words them.
A row it cannot read (an older or unknown shape) is still listed, as its action.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from server.report.words import Words
from server.storage.event_store import EventData
from server.storage.models import CurationLog

QUOTE_CHARS = 80  # a comment quoted inside a log sentence is cut here, marked "…"


@dataclass
class LogLine:
    time: str
    sentence: str


@dataclass
class LogQuestion:
    key: str
    text: str
    lines: list[LogLine]


def who(actor: str) -> str:
    """The name typed on the workbench if there is one, else the link's label."""
    label, _, name = actor.partition(" · ")
    return name.strip() or label.strip() or actor


def _json(raw: str) -> Any:
    try:
        return json.loads(raw or "{}")
    except ValueError:
        return {}


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


class _Worder:
    def __init__(self, data: EventData, w: Words) -> None:
        self.w = w
        self.comments = {c.id: c.text for c in data.comments}

    def comment(self, ids: list[Any]) -> str:
        _ = self.w.gettext
        texts = [self.comments.get(int(i)) for i in ids if str(i).isdigit()]
        first = next((t for t in texts if t), None)
        if first is None:
            return _("a comment")
        quoted = f"“{_short(first)}”"
        return quoted if len(ids) == 1 else _("{quote} and {n} copies", quote=quoted,
                                                n=len(ids) - 1)

    def sentence(self, row: CurationLog) -> str:
        _ = self.w.gettext
        before, after = _json(row.before), _json(row.after)
        name = who(row.actor)
        view: Any = after.get("after") if isinstance(after, dict) else None
        try:
            match row.action:
                case "rename":
                    return _("{who} renamed ‘{old}’ to ‘{new}’ ({n} comments).", who=name,
                             old=before["label"], new=view["label"], n=view["size"])
                case "merge":
                    sources = [b["label"] for b in before[:-1]]
                    return _("{who} merged {sources} into ‘{into}’ ({n} comments).", who=name,
                             sources=", ".join(f"‘{s}’" for s in sources),
                             into=view["label"], n=view["size"])
                case "split":
                    kept, new = view
                    return _("{who} split ‘{label}’ in two: ‘{a}’ ({na}) and ‘{b}’ ({nb}).",
                             who=name, label=before["label"], a=kept["label"],
                             na=kept["size"], b=new["label"], nb=new["size"])
                case "move":
                    labels = {t["id"]: t["label"] for t in view["themes"] + before["themes"]}
                    nowhere = _("no theme")
                    return _("{who} moved {comment} from ‘{old}’ to ‘{new}’.", who=name,
                             comment=self.comment(after.get("comments", [])),
                             old=labels.get(before["from"], nowhere),
                             new=labels.get(view["to"], nowhere))
                case "discard":
                    theme = (before.get("theme") or {}).get("label")
                    return _("{who} set aside {comment} ({reason}){where}.", who=name,
                             comment=self.comment(after.get("comments", [])),
                             reason=view["reason"],
                             where=_(" from ‘{theme}’", theme=theme) if theme else "")
                case "restore":
                    return _("{who} brought back {comment}, set aside earlier ({reason}).",
                             who=name, comment=self.comment(after.get("comments", [])),
                             reason=before["reason"])
                case "pin_quote":
                    return _("{who} chose {comment} as a quote for ‘{label}’.", who=name,
                             comment=self.comment(view["pinned"][:1]), label=view["label"])
                case "publish":
                    themes = after.get("themes", [])
                    if not themes:
                        return _("{who} withdrew this question's published themes.", who=name)
                    return _("{who} published {n} themes: {labels}.", who=name, n=len(themes),
                             labels=", ".join(f"‘{t['label']}’ ({t['size']})" for t in themes))
                case "retheme":
                    return _("{who} asked the machine to group the comments afresh.", who=name)
                case "undo":
                    return _("{who} undid their last step ({action}).", who=name,
                             action=before.get("action", ""))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            pass
        return _("{who}: {action}.", who=name, action=row.action)


def log_sections(data: EventData, w: Words) -> list[LogQuestion]:
    """The log per question (agenda order), each line with its local time."""
    worder = _Worder(data, w)
    by_q: dict[int | None, list[LogLine]] = {}
    for row in data.curation:
        by_q.setdefault(row.question_id, []).append(
            LogLine(w.time(row.at), worder.sentence(row))
        )
    out = [
        LogQuestion(q.key, w.text(q.text), by_q[q.id])
        for q in data.questions
        if q.id in by_q
    ]
    if None in by_q:
        _ = w.gettext
        out.append(LogQuestion("", _("Not about one question"), by_q[None]))
    return out
