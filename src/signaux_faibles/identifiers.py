"""SIREN / SIRET identifiers: Luhn key, pseudo-SIRETs.

A SIREN has 9 digits, a SIRET 14 (SIREN + NIC). Both carry a Luhn key, which the real data does not always honour
(ACOSS pseudo-SIRETs, randomised test data): a bad key is flagged, never a reason to reject a row.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def luhn_valid(number: str) -> bool:
    """True when ``number`` is all digits and passes the Luhn check."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(digits: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.int64]:
    """Append the Luhn check digit to each number of ``width - 1`` digits (vectorised)."""
    body = np.asarray(digits, dtype=np.int64)
    total = np.zeros(len(body), dtype=np.int64)
    rest = body.copy()
    for i in range(width - 1):  # i = 0 is the rightmost digit of the body, doubled once the key is appended
        d = rest % 10
        rest //= 10
        if i % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    key = (10 - total % 10) % 10
    return body * 10 + key


def is_pseudo_siret(siret: str) -> bool:
    """ACOSS pseudo-SIRET: the NIC's first digit (10th digit of the SIRET) is 5, 6, 7 or 9."""
    return len(siret) == 14 and siret[9] in "5679"
