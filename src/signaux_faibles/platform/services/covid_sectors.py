"""The COVID-19 sectors of the real system: the NAF sub-classes of the lists S1, S1 bis and S2.

S1 and S1 bis are the sectors most affected by the health crisis (décret n° 2020-371 du 30 mars 2020, annexes 1
and 2, as amended), S2 the sectors closed by administrative decision. Each list has the codes the real system
holds as "très probable" and, for S1 and S1 bis, those it holds as "possible" (only part of the sub-class is
concerned). The list's filter « Hors secteurs COVID-19 » leaves out every company whose main activity is in one of
them, as the real system's ``excludeSecteursCovid`` does.
"""

from __future__ import annotations

__all__ = ["COVID_CODES", "COVID_SECTORS", "covid_sector"]


def _codes(text: str) -> tuple[str, ...]:
    """``"5510Z 5520Z"`` → ``("55.10Z", "55.20Z")`` (the platform's ``activite_principale`` form)."""
    return tuple(f"{c[:2]}.{c[2:]}" for c in text.split())


#: (label, NAF sub-classes), most specific first: a code in several lists takes the first label.
COVID_SECTORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("S1 : très probable", _codes(
        "4939C 5510Z 5520Z 5530Z 5610A 5610B 5610C 5629A 5629B 5621Z 5630Z 5914Z 5912Z 5913A 7721Z 7911Z 7912Z "
        "7990Z 8230Z 8551Z 9001Z 9002Z 9003A 9003B 9004Z 9102Z 9103Z 9104Z 9311Z 9312Z 9313Z 9319Z 9321Z 9329Z "
        "9604Z 5110Z 4939A 4939B 5010Z 5911A 5911B 5911C 7420Z 8552Z 7430Z 4932Z 7711A 2511Z 7312Z 0127Z 0121Z "
        "1101Z 1102A 1102B 1103Z 1104Z"
    )),
    ("S1 : possible", _codes("7810Z 6612Z 4778C 9200Z 4910Z 5030Z")),
    ("S1 bis : très probable", _codes(
        "0311Z 0312Z 0321Z 0322Z 1105Z 1106Z 4617A 4631Z 0130Z 4622Z 4633Z 4634Z 4638A 4638B 4639A 4639B 4690Z "
        "4641Z 4618Z 4642Z 4649Z 4644Z 4669C 9601A 5920Z 5811Z 5223Z 5222Z 8010Z 8121Z 8122Z 1013B 1071D 4722Z "
        "1412Z 1820Z 2313Z 2341Z 2571Z 2599A 2752Z 2740Z 4321A 4332C 7021Z 7311Z 7410Z 7490B 9601B 4799B 4632B "
        "1413Z 9523Z"
    )),
    ("S1 bis : possible", _codes(
        "1051C 4617B 4730Z 1013A 4781Z 4776Z 4789Z 6622Z 6820B 8211Z 4120A 9609Z 1399Z 6010Z 6020B 3230Z 2591Z"
    )),
    ("S2 : très probable", _codes(
        "4511Z 4719A 4751Z 4772A 4753Z 4754Z 4759B 4763Z 4765Z 4775Z 4778B 7722Z 8553Z 9101Z 9602B 4519Z 4719B "
        "4771Z 4782Z 4759A 4761Z 4764Z 4772B 4777Z 4779Z 7729Z 8891A 9602A 1814Z 3220Z"
    )),
)
#: Every code of the lists.
COVID_CODES = frozenset(code for _, codes in COVID_SECTORS for code in codes)


def covid_sector(activite: str | None) -> str | None:
    """The COVID-19 sector of a main activity (``"55.10Z"`` → ``"S1 : très probable"``), or None."""
    for label, codes in COVID_SECTORS:
        if activite in codes:
            return label
    return None
