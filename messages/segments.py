"""How many SMS parts a text costs, and in which encoding.

Operators bill (and phones reassemble) SMS per segment. One character outside the GSM-7 alphabet
switches the whole message to UCS-2, which cuts a segment from 160 to 70 characters, so a stray
typographic apostrophe in a Swedish text can triple its cost. The staff template editor and the
budget tests both use :func:`analyse` to make that visible before anything is sent.

The numbers follow 3GPP TS 23.038 (alphabet) and TS 23.040 (concatenation): a concatenated
message loses room to its user-data header, leaving 153 septets or 67 UTF-16 units per part. An
escape pair (GSM-7 extension table) or a surrogate pair (UCS-2) is never split across two parts,
which is why counting is done part by part rather than by division.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7: Encoding = "GSM-7"
UCS2: Encoding = "UCS-2"

# The GSM 03.38 default alphabet (one septet each). 0x09 is the capital C with cedilla, as in
# the standard; some handsets show it as "ç", but a lowercase ç is not in the alphabet.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# The extension table: each costs an escape septet plus itself.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """The cost of one text as an SMS.

    ``units`` are septets for GSM-7 and UTF-16 code units for UCS-2: what the limits are counted
    in. ``characters`` is the number of code points, for humans. ``non_gsm`` lists, in order of
    first appearance, the characters that forced UCS-2, so an editor can point at them.
    """

    encoding: Encoding
    segments: int
    units: int
    characters: int
    non_gsm: tuple[str, ...] = ()

    @property
    def per_segment(self) -> int:
        """Room in each part of a message of this size (the single-part limit for one part)."""
        if self.encoding == GSM7:
            return GSM7_SINGLE if self.segments <= 1 else GSM7_MULTI
        return UCS2_SINGLE if self.segments <= 1 else UCS2_MULTI


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` can be sent in the GSM-7 alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def non_gsm_characters(text: str) -> tuple[str, ...]:
    """The distinct characters of ``text`` that GSM-7 cannot carry, in order of appearance."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            seen.setdefault(ch, None)
    return tuple(seen)


def _pack(widths: list[int], single: int, multi: int) -> int:
    """Number of parts needed for indivisible items of the given widths.

    A text that fits ``single`` is one part; otherwise items are packed greedily into parts of
    ``multi`` units, an item that does not fit starting the next part (it cannot be split).
    """
    total = sum(widths)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for width in widths:
        if used + width > multi:
            parts += 1
            used = 0
        used += width
    return parts


def analyse(text: str) -> SegmentInfo:
    """Encoding and segment count of ``text`` as an SMS. The empty text costs 0 segments."""
    offending = non_gsm_characters(text)
    if not offending:
        widths = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return SegmentInfo(
            encoding=GSM7,
            segments=_pack(widths, GSM7_SINGLE, GSM7_MULTI),
            units=sum(widths),
            characters=len(text),
        )
    widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SegmentInfo(
        encoding=UCS2,
        segments=_pack(widths, UCS2_SINGLE, UCS2_MULTI),
        units=sum(widths),
        characters=len(text),
        non_gsm=offending,
    )
