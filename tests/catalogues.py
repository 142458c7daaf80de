"""The project's translation catalogues (locale/*/LC_MESSAGES/django.po), read without
gettext tools."""

import ast
from dataclasses import dataclass, field
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[1] / "locale"


@dataclass
class Entry:
    msgid: str
    msgid_plural: str = ""
    msgstrs: list[str] = field(default_factory=list)
    fuzzy: bool = False


def catalogue(language: str) -> list[Entry]:
    """Every entry of ``language``'s catalogue but the header."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: str | None = None
    fuzzy = False
    for line in (LOCALE / language / "LC_MESSAGES" / "django.po").read_text("utf-8").splitlines():
        line = line.strip()
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid "):
            current = Entry(msgid=ast.literal_eval(line[6:]), fuzzy=fuzzy)
            entries.append(current)
            target, fuzzy = "msgid", False
        elif line.startswith("msgid_plural ") and current:
            current.msgid_plural = ast.literal_eval(line[13:])
            target = "msgid_plural"
        elif line.startswith("msgstr") and current:
            current.msgstrs.append(ast.literal_eval(line.split(" ", 1)[1]))
            target = "msgstr"
        elif line.startswith('"') and current and target:
            text = ast.literal_eval(line)
            if target == "msgid":
                current.msgid += text
            elif target == "msgid_plural":
                current.msgid_plural += text
            else:
                current.msgstrs[-1] += text
    return [entry for entry in entries if entry.msgid]
