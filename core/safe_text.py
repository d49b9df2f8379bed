"""Text that a user, a link or a file supplied, made safe to show: as text, never as Markdown or HTML.

- `plain(text, limit)`: control characters (terminal escapes, NUL, bidirectional overrides) removed and the
  text shortened to `limit` characters with an ellipsis — for the CLI and anywhere text is shown as text;
- `literal(text, limit)`: `plain`, then every character Markdown (and Streamlit's extensions: emoji
  shortcodes, colours, LaTeX, HTML) would read escaped, so `st.markdown`, `st.caption`, `st.warning` … show
  exactly the characters given: `![x](http://…)` stays those characters, and nothing is fetched;
- `echo(value, limit)`: a value quoted in a message (`repr`-like), shortened; a control character in it is
  shown as its escape ("conv\u202e"), never dropped: a name followed by a right-to-left override is not quoted back
  as if it were the plain name.
"""

from __future__ import annotations

import re
import unicodedata

ECHO_LIMIT = 60  # characters of a user's value quoted back in a message
# What Markdown (and Streamlit's extensions) would read in a line of text: links and images ([, ], !),
# autolinks (<…>, and bare addresses: the ':' of '://' and the '.' of 'www.'), emphasis, code, strikethrough,
# LaTeX ($), HTML (<, >, &) and Streamlit's directives (:red[…]). A backslash escapes each (CommonMark).
_MARKDOWN = re.compile(r"([\\`*_\[\]!<>~$&]|:(?=//)|(?<=www)\.)", re.IGNORECASE)


def _is_control(character: str) -> bool:
    # Cc: C0/C1 controls (ESC, NUL, BEL, DEL…); Cf: format characters (bidi overrides, zero-width joiners…)
    return unicodedata.category(character) in ("Cc", "Cf") and character not in "\t"


def plain(text, limit: int | None = None) -> str:
    """`text` as a string without control characters, at most `limit` characters (ending in '…' if cut)."""
    text = "".join(" " if character in "\n\r\t" else character for character in str(text)
                   if character in "\n\r\t" or not _is_control(character))
    if limit is not None and len(text) > limit:
        text = text[:max(0, limit - 1)] + "…"
    return text


def literal(text, limit: int | None = None) -> str:
    """`plain(text, limit)` escaped for Streamlit's Markdown: shown character for character."""
    return _MARKDOWN.sub(r"\\\1", plain(text, limit))


def visible(text) -> str:
    """`text` with each control character (see `plain`) written as its Python escape: '\\u202e', '\\x1b'."""
    return "".join((f"\\x{ord(character):02x}" if ord(character) < 256 else f"\\u{ord(character):04x}")
                   if character in "\n\r\t" or _is_control(character) else character for character in str(text))


def echo(value, limit: int = ECHO_LIMIT) -> str:
    """A value quoted in a message: its repr for non-text, quoted text otherwise; shortened; control characters
    shown as their escapes (`visible`), so what was given is told apart from what it resembles."""
    shown = plain(visible(value if isinstance(value, str) else repr(value)), limit)
    return f"'{shown}'" if isinstance(value, str) else shown
