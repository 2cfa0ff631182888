"""The partners' file formats: one ``FileSpec`` per delivered file, turning a chunk's signals into text lines.

Headers are exactly those of the real system's reference files (``../shared/reference``); value encodings follow
``real_system.md`` §1: URSSAF dates ``(A)AAMMJJ``, periods ``YYQM`` (cotisations) and ``YYYYQM`` (débits),
centimes (débits), decimal commas, ``26MAY2014`` (procol), wide ``effAAAAQM`` columns, UTF-16LE DIANE exports,
ISO-8859-15 paydex.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..geo import DEPARTEMENT_CENTRES, departement_from_commune
from .diane_header import DIANE_COLUMNS
from .signals import ChunkSignals
from .world import Calendar


@dataclass(frozen=True)
class Batch:
    name: str  # AAMM
    end_m: int  # last month index delivered in this batch
    prev_end_m: int  # last month of the previous batch (-10**6 for the initial batch)
    initial: bool

    def flux(self, avail: pd.Series) -> npt.NDArray[np.bool_]:
        a = avail.to_numpy()
        return (a > self.prev_end_m) & (a <= self.end_m)

    def stock(self, avail: pd.Series) -> npt.NDArray[np.bool_]:
        return avail.to_numpy() <= self.end_m


@dataclass
class Context:
    cal: Calendar
    urssaf_code: dict[str, str]
    # per-month lookup strings
    yyqm: npt.NDArray[np.str_]
    yyyyqm: npt.NDArray[np.str_]
    first_day: npt.NDArray[np.datetime64]

    @classmethod
    def make(cls, cal: Calendar, depts: list[str]) -> Context:
        ms = pd.period_range(cal.start - 36, cal.months[-1] + 48, freq="M")
        # index 0 of these arrays is cal.start - 36: use ``lookup`` to address them by month index
        yyqm = np.array([f"{m.year % 100:02d}{(m.month - 1) // 3 + 1}{(m.month - 1) % 3 + 1}" for m in ms])
        yyyyqm = np.array([f"{m.year}{(m.month - 1) // 3 + 1}{(m.month - 1) % 3 + 1}" for m in ms])
        first = np.array([m.to_timestamp().to_datetime64() for m in ms], dtype="datetime64[D]")
        codes = {d: f"{100 + i * 7 % 800:03d}" for i, d in enumerate(depts)}
        codes[""] = "999"
        return cls(cal, codes, yyqm, yyyyqm, first)

    def lookup(self, arr: npt.NDArray[np.generic], m: npt.ArrayLike) -> npt.NDArray[np.generic]:
        return arr[np.asarray(m) + 36]

    def date(self, m: npt.ArrayLike, day: npt.ArrayLike = 1) -> npt.NDArray[np.datetime64]:
        return self.lookup(self.first_day, m) + (np.asarray(day) - 1).astype("timedelta64[D]")


# ---- value encoders --------------------------------------------------------------------------------------
def urssaf_date(d: npt.NDArray[np.datetime64]) -> pd.Series:
    """``(A)AAMMJJ``: year - 1900, then MMDD: 2016-03-18 -> ``1160318``, 1999-06-12 -> ``990612``."""
    ts = pd.DatetimeIndex(d)
    return pd.Series((ts.year - 1900) * 10000 + ts.month * 100 + ts.day).astype(str)


def fr_date(d: npt.NDArray[np.datetime64]) -> pd.Series:
    return pd.Series(pd.DatetimeIndex(d).strftime("%d/%m/%Y"))


def iso_date(d: npt.NDArray[np.datetime64]) -> pd.Series:
    return pd.Series(pd.DatetimeIndex(d).strftime("%Y-%m-%d"))


def procol_date(d: npt.NDArray[np.datetime64]) -> pd.Series:
    return pd.Series(pd.DatetimeIndex(d).strftime("%d%b%Y")).str.upper()


def euros_comma(cents: npt.ArrayLike) -> pd.Series:
    """Centimes -> ``1234,56`` (decimal comma)."""
    c = np.asarray(cents, dtype=np.int64)
    sign = np.where(c < 0, "-", "")
    a = np.abs(c)
    units = pd.Series(a // 100).astype(str)
    cents = pd.Series(a % 100).astype(str).str.zfill(2)
    return pd.Series(sign, dtype=object) + units + "," + cents


def decimal_comma(x: npt.ArrayLike, digits: int = 2) -> pd.Series:
    return (
        euros_comma(np.round(np.asarray(x, dtype=float) * 10**digits))
        if digits == 2
        else pd.Series([f"{v:.{digits}f}".replace(".", ",") for v in np.asarray(x, dtype=float)])
    )


def join(cols: list[pd.Series | str], sep: str) -> list[str]:
    n = max(len(c) for c in cols if not isinstance(c, str))
    out: pd.Series = pd.Series([""] * n)
    for i, c in enumerate(cols):
        part = pd.Series([c] * n) if isinstance(c, str) else c.reset_index(drop=True).astype(str)
        out = part if i == 0 else out + sep + part
    return out.tolist()


def quote(s: pd.Series) -> pd.Series:
    return '"' + s.astype(str) + '"'


def csv_lines(rows: list[list[str]]) -> list[str]:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().splitlines()


# ---- the files -------------------------------------------------------------------------------------------
LineFn = Callable[[ChunkSignals, Context, Batch], list[str]]


@dataclass(frozen=True)
class FileSpec:
    key: str  # short name used in defects and docs
    filename: Callable[[Batch], str]
    header: Callable[[Context, Batch], str]
    lines: LineFn
    kind: Literal["stock", "flux"]
    encoding: str = "utf-8"
    newline: str = "\n"
    gzip: bool = False
    bom: bool = False
    batches: Literal["all", "initial", "later"] = "all"  # which batches deliver the file
    trailer: Callable[[int], str] | None = None  # the last line, from the number of lines after the header

    def delivered(self, batch: Batch) -> bool:
        """Whether ``batch`` holds this file."""
        return self.batches == "all" or (self.batches == "initial") == batch.initial


def _etab_cols(sig: ChunkSignals, ctx: Context, etab: npt.NDArray[np.int64]) -> dict[str, pd.Series]:
    e = sig.etabs
    dep = e.departement.to_numpy()[etab]
    return {
        "gestion": pd.Series([ctx.urssaf_code.get(d, "999") for d in dep]),
        "dep": pd.Series(dep),
        "siret": pd.Series(e.siret.to_numpy()[etab]),
        "siren": pd.Series(e.siren.to_numpy()[etab]),
        "compte": pd.Series(e.compte.to_numpy()[etab]),
    }


def _cotisations(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    c = sig.cotisations[b.flux(sig.cotisations.avail_m)]
    if c.empty:
        return []
    # quarterly payers: one row per quarter (M=0), delivered with the quarter's last month
    q = c.quarterly.to_numpy()
    mq = c.m.to_numpy()
    period = ctx.lookup(ctx.yyqm, mq).astype(object)
    period[q] = np.array([p[:3] + "0" for p in period[q]], dtype=object)
    df = pd.DataFrame(
        {"etab": c.etab.to_numpy(), "period": period, "due": c.due.to_numpy(), "paid": c.paid.to_numpy()}
    )
    df = df.groupby(["etab", "period"], sort=False, as_index=False)[["due", "paid"]].sum()
    k = _etab_cols(sig, ctx, df.etab.to_numpy())
    due = euros_comma(df.due.to_numpy())
    return join([k["gestion"], k["dep"], k["siret"], k["compte"], df.period.reset_index(drop=True), due,
                 euros_comma(df.paid.to_numpy()), due], ";")  # fmt: skip


def _debits(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    d = sig.debits[b.flux(sig.debits.avail_m)]
    if d.empty:
        return []
    e = d.etab.to_numpy()
    k = _etab_cols(sig, ctx, e)
    comp = sig.companies
    ci = sig.etabs.company.to_numpy()[e]
    immat = sig.etabs.assign(dc=comp.date_creation.to_numpy()[sig.etabs.company.to_numpy()]).dc.to_numpy()[e]
    op_end = comp.op_end.to_numpy()[ci]
    trt = d.trt_m.to_numpy()
    etat = np.where(trt >= op_end, "3", np.where(d.in_procol.to_numpy(), "2", "1"))
    plan = comp.plan.to_numpy()[ci] & (trt >= comp.resol_m.to_numpy()[ci])
    cd_pro_col = np.where(d.in_procol.to_numpy(), np.where(plan, "2", "1"), "0")
    return join([
        k["gestion"], k["dep"], k["compte"], k["siren"], k["siret"],
        pd.Series(pd.DatetimeIndex(immat).strftime("%Y%m%d")), pd.Series(etat), pd.Series(cd_pro_col),
        pd.Series(ctx.lookup(ctx.yyyyqm, d.period_m.to_numpy())), d.num_ecn.astype(str), d.num_hist.astype(str),
        urssaf_date(ctx.date(trt, d.day.to_numpy())), d.po.astype(str), d.pp.astype(str), d.cd_op.astype(str),
        d.motif.astype(str), d.recours.astype(str),
    ], ";")  # fmt: skip


def _delais(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    d = sig.delais[b.flux(sig.delais.avail_m)]
    if d.empty:
        return []
    e = d.etab.to_numpy()
    k = _etab_cols(sig, ctx, e)
    created = ctx.date(d.trt_m.to_numpy(), 1) + d.offset_days.to_numpy().astype("timedelta64[D]")
    due = created + d.duree.to_numpy().astype("timedelta64[D]")
    names = sig.companies.name.to_numpy()[sig.etabs.company.to_numpy()[e]]
    return join([
        k["gestion"], k["dep"], k["siret"], k["compte"], d.numero.astype(str), fr_date(created), fr_date(due),
        d.duree.astype(str), pd.Series(names), pd.Series(np.where(d.duree.to_numpy() > 180, "SUP", "INF")),
        pd.Series(pd.DatetimeIndex(created).year.astype(str)), euros_comma(d.montant.to_numpy()), "APPROB",
        "DELAI",
    ], ";")  # fmt: skip


def _head_office(sig: ChunkSignals) -> npt.NDArray[np.int64]:
    """Index (in etabs) of each company's head office."""
    e = sig.etabs
    idx = np.zeros(len(sig.companies), dtype=np.int64)
    sieges = np.nonzero(e.siege.to_numpy())[0]
    idx[e.company.to_numpy()[sieges]] = sieges
    return idx


def _ccsf(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    d = sig.ccsf[b.flux(sig.ccsf.avail_m)]
    if d.empty:
        return []
    e = _head_office(sig)[d.company.to_numpy()]
    k = _etab_cols(sig, ctx, e)
    return join([k["gestion"], k["dep"], k["siret"], k["compte"],
                 urssaf_date(ctx.date(d.m.to_numpy(), d.day.to_numpy())), d.stade, "CCSF"], ";")  # fmt: skip


def _procol(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    d = sig.procol[b.flux(sig.procol.avail_m)]
    if d.empty:
        return []
    e = _head_office(sig)[d.company.to_numpy()]
    k = _etab_cols(sig, ctx, e)
    return join(
        [k["siret"], k["siren"], procol_date(ctx.date(d.m.to_numpy(), d.day.to_numpy())), "1", d.label], ";"
    )


def _eff_months(ctx: Context, b: Batch) -> npt.NDArray[np.int64]:
    """Months covered by an effectif delivery: the window up to the month before the batch."""
    return np.arange(0, b.end_m)


def _eff_header_cols(ctx: Context, b: Batch) -> list[str]:
    ms = _eff_months(ctx, b)
    return [f"eff{p}" for p in ctx.lookup(ctx.yyyyqm, ms)]


def _fmt_eff(values: npt.NDArray[np.float64]) -> list[pd.Series]:
    return [
        pd.Series(np.where(np.isnan(col), "", np.nan_to_num(col).astype(np.int64).astype(str)))
        for col in values.T
    ]


def _effectif(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    ms = _eff_months(ctx, b)
    e = sig.etabs
    vals = sig.effectif[:, ms]
    keep = ~np.isnan(vals).all(axis=1)
    if not keep.any():
        return []
    idx = np.nonzero(keep)[0]
    k = _etab_cols(sig, ctx, idx)
    names = pd.Series(sig.companies.name.to_numpy()[e.company.to_numpy()[idx]])
    ape = pd.Series(e.naf.to_numpy()[idx]).str.replace(".", "", regex=False).str.lower()
    return join(
        [k["compte"], k["siret"], names, ape, k["dep"], *_fmt_eff(vals[idx]), "RG", k["gestion"]], ";"
    )


def _effectif_ent(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    ms = _eff_months(ctx, b)
    ci = sig.etabs.company.to_numpy()
    n = len(sig.companies)
    tot = np.zeros((n, len(ms)))
    seen = np.zeros((n, len(ms)), dtype=bool)
    np.add.at(tot, ci, np.nan_to_num(sig.effectif[:, ms]))
    np.logical_or.at(seen, ci, ~np.isnan(sig.effectif[:, ms]))
    tot[~seen] = np.nan
    keep = np.nonzero(seen.any(axis=1))[0]
    if not len(keep):
        return []
    c = sig.companies
    return join(
        [pd.Series(c.siren.to_numpy()[keep]), *_fmt_eff(tot[keep]), pd.Series(c.name.to_numpy()[keep])], ";"
    )


def _comptes(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    e = sig.etabs
    comp = sig.companies
    created = comp.date_creation.to_numpy()[e.company.to_numpy()].astype("datetime64[D]")
    started = comp.created_m.to_numpy()[e.company.to_numpy()] <= b.end_m
    idx = np.nonzero(started)[0]
    if not len(idx):
        return []
    op_end = comp.op_end.to_numpy()[e.company.to_numpy()[idx]]
    closed = op_end <= b.end_m
    disp = np.where(closed, urssaf_date(ctx.date(np.minimum(op_end, b.end_m), 15)).to_numpy(), "")
    k = _etab_cols(sig, ctx, idx)
    return join([k["gestion"], k["dep"], k["compte"], pd.Series(np.where(closed, "3", "1")), k["siren"], k["siret"],
                 urssaf_date(created[idx]), pd.Series(disp)], ";")  # fmt: skip


def _apdemande(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    d = sig.apdemande[b.stock(sig.apdemande.avail_m)]
    if d.empty:
        return []
    siret = sig.etabs.siret.to_numpy()[d.etab.to_numpy()]
    start = ctx.date(d.m.to_numpy(), d.start_day.to_numpy())
    end = start + (d.dur.to_numpy() * 30).astype("timedelta64[D]")
    statut = start + d.statut_offset.to_numpy().astype("timedelta64[D]")
    cons = sig.apconso[b.stock(sig.apconso.avail_m)].groupby("req")[["heures", "montant", "effectifs"]].sum()
    req = d.index.to_numpy()
    h = cons.heures.reindex(req).fillna(0).to_numpy()
    mt = cons.montant.reindex(req).fillna(0).to_numpy()
    ef = cons.effectifs.reindex(req).fillna(0).to_numpy()
    f1 = lambda v: pd.Series(np.round(np.asarray(v, float), 1)).astype(str)  # noqa: E731
    f2 = lambda v: pd.Series(np.round(np.asarray(v, float), 2)).astype(str)  # noqa: E731
    return join([
        quote(d.id), quote(pd.Series(siret)), f1(d.eff_ent), f1(d.eff_ent * 0 + np.nan_to_num(d.eff_ent)),
        quote(iso_date(statut)), quote(iso_date(start)), quote(iso_date(end)), f2(d.hta),
        quote(decimal_comma(d.mta.to_numpy())), f1(d.eff_auto), quote(d.motif.astype(str)), quote(d.perimetre.astype(str)),
        f1(h), f1(ef), f2(mt), quote(d.recours.astype(str)),
    ], ",")  # fmt: skip


def _apconso(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    d = sig.apconso[b.stock(sig.apconso.avail_m)]
    if d.empty:
        return []
    siret = sig.etabs.siret.to_numpy()[d.etab.to_numpy()]
    return join([quote(d.id), quote(pd.Series(siret)), d.heures.round(2).astype(str), d.montant.round(2).astype(str),
                 d.effectifs.astype(float).astype(str), quote(iso_date(ctx.date(d.m.to_numpy())))], ",")  # fmt: skip


SIRENE_HEADER = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,"
    "anneeEffectifsEtablissement,activitePrincipaleRegistreMetiersEtablissement,dateDernierTraitementEtablissement,"
    "etablissementSiege,nombrePeriodesEtablissement,complementAdresseEtablissement,numeroVoieEtablissement,"
    "indiceRepetitionEtablissement,typeVoieEtablissement,libelleVoieEtablissement,codePostalEtablissement,"
    "libelleCommuneEtablissement,libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,"
    "codeCommuneEtablissement,codeCedexEtablissement,libelleCedexEtablissement,codePaysEtrangerEtablissement,"
    "libellePaysEtrangerEtablissement,complementAdresse2Etablissement,numeroVoie2Etablissement,"
    "indiceRepetition2Etablissement,typeVoie2Etablissement,libelleVoie2Etablissement,codePostal2Etablissement,"
    "libelleCommune2Etablissement,libelleCommuneEtranger2Etablissement,distributionSpeciale2Etablissement,"
    "codeCommune2Etablissement,codeCedex2Etablissement,libelleCedex2Etablissement,codePaysEtranger2Etablissement,"
    "libellePaysEtranger2Etablissement,dateDebut,etatAdministratifEtablissement,enseigne1Etablissement,"
    "enseigne2Etablissement,enseigne3Etablissement,denominationUsuelleEtablissement,"
    "activitePrincipaleEtablissement,nomenclatureActivitePrincipaleEtablissement,caractereEmployeurEtablissement,"
    "longitude,latitude,geo_score,geo_type,geo_adresse,geo_id,geo_ligne,geo_l4,geo_l5"
)
SIRENE_UL_HEADER = (
    "siren,statutDiffusionUniteLegale,unitePurgeeUniteLegale,dateCreationUniteLegale,sigleUniteLegale,"
    "sexeUniteLegale,prenom1UniteLegale,prenom2UniteLegale,prenom3UniteLegale,prenom4UniteLegale,"
    "prenomUsuelUniteLegale,pseudonymeUniteLegale,identifiantAssociationUniteLegale,trancheEffectifsUniteLegale,"
    "anneeEffectifsUniteLegale,dateDernierTraitementUniteLegale,nombrePeriodesUniteLegale,categorieEntreprise,"
    "anneeCategorieEntreprise,dateDebut,etatAdministratifUniteLegale,nomUniteLegale,nomUsageUniteLegale,"
    "denominationUniteLegale,denominationUsuelle1UniteLegale,denominationUsuelle2UniteLegale,"
    "denominationUsuelle3UniteLegale,categorieJuridiqueUniteLegale,activitePrincipaleUniteLegale,"
    "nomenclatureActivitePrincipaleUniteLegale,activitePrincipaleNAF25UniteLegale,nicSiegeUniteLegale,"
    "economieSocialeSolidaireUniteLegale,caractereEmployeurUniteLegale"
)
SIRENE_HISTO_HEADER = (
    "siren,nic,siret,dateFin,dateDebut,etatAdministratifEtablissement,changementEtatAdministratifEtablissement,"
    "enseigne1Etablissement,enseigne2Etablissement,enseigne3Etablissement,changementEnseigneEtablissement,"
    "denominationUsuelleEtablissement,changementDenominationUsuelleEtablissement,activitePrincipaleEtablissement,"
    "nomenclatureActivitePrincipaleEtablissement,changementActivitePrincipaleEtablissement,"
    "caractereEmployeurEtablissement,changementCaractereEmployeurEtablissement"
)
TRANCHES = ((0, "00"), (1, "01"), (3, "02"), (6, "03"), (10, "11"), (20, "12"), (50, "21"), (100, "22"),
            (200, "31"), (250, "32"), (500, "41"), (1000, "42"), (2000, "51"), (5000, "52"), (10000, "53"))  # fmt: skip
VOIES = ("RUE", "AV", "BD", "CHE", "PL", "IMP", "RTE", "ALL")


def tranche(eff: float) -> str:
    if np.isnan(eff):
        return "NN"
    code = "00"
    for lo, c in TRANCHES:
        if eff >= lo:
            code = c
    return code


def _day(ctx: Context, m: int, day: int = 10) -> str:
    return str(ctx.date(m, day))


def _pseudo_geo(code_commune: str, rng_key: int) -> tuple[float, float]:
    """A deterministic position inside the commune's département (a disk around a point well inside it,
    ``geo.DEPARTEMENT_CENTRES``); anywhere in mainland France for a code the table does not know."""
    h = (sum(ord(ch) * (i + 7) for i, ch in enumerate(code_commune)) * 2654435761 + rng_key) % 10**6
    centre = DEPARTEMENT_CENTRES.get(departement_from_commune(code_commune) or "")
    if centre is None:
        return 43.0 + (h % 700) / 100.0, -1.0 + ((h // 700) % 800) / 100.0
    lat, lon, radius = centre
    angle, u = 2 * math.pi * (h % 1000) / 1000, ((h // 1000) % 1000) / 1000
    r = radius * math.sqrt(u)
    return round(lat + r * math.sin(angle), 5), round(lon + r * math.cos(angle), 5)


def _sirene(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    asof = ctx.date(b.end_m, 28)[()]
    E = {k: sig.etabs[k].tolist() for k in sig.etabs.columns}
    C = {k: sig.companies[k].tolist() for k in sig.companies.columns}
    rows: list[list[str]] = []
    for j in range(len(sig.etabs)):
        if E["pseudo"][j]:
            continue  # ACOSS pseudo-SIRETs are not in SIRENE
        i = int(E["company"][j])
        if C["created_m"][i] > b.end_m:
            continue
        closed = C["op_end"][i] <= b.end_m
        created = str(C["date_creation"][i])[:10]
        debut = _day(ctx, C["op_end"][i]) if closed else created
        code, postal, commune = E["commune"][j]
        abroad = E["departement"][j] == ""
        lat, lon = _pseudo_geo(code, j)
        eff = sig.effectif[j, b.end_m - 1] if b.end_m >= 1 else np.nan
        num = str(1 + (j * 37) % 120)
        voie = f"{VOIES[j % len(VOIES)]}"
        libvoie = ("DE LA GARE", "DES ECOLES", "DU MOULIN", "JEAN JAURES", "DE LA REPUBLIQUE", "PASTEUR")[
            j % 6
        ]
        rows.append([
            E["siren"][j], E["siret"][j][9:], E["siret"][j], "O", created, tranche(eff), str(asof)[:4],
            "", f"{asof}T00:00:00", "true" if E["siege"][j] else "false", "2" if closed else "1", "",
            "" if abroad else num, "", "" if abroad else voie, "" if abroad else libvoie, "" if abroad else postal,
            "" if abroad else commune.upper(), "LONDRES" if abroad else "", "", "" if abroad else code, "", "",
            "99132" if abroad else "", "ROYAUME-UNI" if abroad else "", "", "", "", "", "", "", "", "", "", "", "", "",
            "", "", debut, "F" if closed else "A", "", "", "", "", E["naf"][j], "NAFRev2", "O" if eff >= 1 else "N",
            "" if abroad else f"{lon:.6f}", "" if abroad else f"{lat:.6f}", "" if abroad else "0.87",
            "" if abroad else "housenumber", "" if abroad else f"{num} {voie} {libvoie} {postal} {commune}",
            "" if abroad else f"{code}_{j % 9000:04d}_{num}", "" if abroad else "G",
            "" if abroad else f"{num} {voie} {libvoie}", "" if abroad else f"{postal} {commune.upper()}",
        ])  # fmt: skip
    return csv_lines(rows)


def _sirene_ul(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    head = _head_office(sig)
    asof = ctx.date(b.end_m, 28)[()]
    E = {k: sig.etabs[k].tolist() for k in sig.etabs.columns}
    C = {k: sig.companies[k].tolist() for k in sig.companies.columns}
    rows: list[list[str]] = []
    for i in range(len(sig.companies)):
        if C["created_m"][i] > b.end_m:
            continue
        closed = C["op_end"][i] <= b.end_m
        created = str(C["date_creation"][i])[:10]
        debut = _day(ctx, C["op_end"][i]) if closed else created
        ei = C["categorie_juridique"][i] == "1000"
        eff = C["effectif0"][i]
        cat = "GE" if eff >= 5000 else "ETI" if eff >= 250 else "PME"
        name = C["name"][i]
        rows.append([
            C["siren"][i], "O", "", created, "", "M" if ei else "", "JEAN" if ei else "", "", "", "",
            "JEAN" if ei else "", "", "", tranche(eff), str(asof)[:4], f"{asof}T00:00:00",
            "2" if closed else "1", cat, str(asof)[:4], debut, "C" if closed else "A",
            name.split(" ")[1].upper() if ei else "", "", "" if ei else name.upper(), "", "", "",
            C["categorie_juridique"][i], C["naf"][i], "NAFRev2", C["naf"][i], E["siret"][head[i]][9:],
            "O" if C["categorie_juridique"][i] == "9220" else "N", "O" if eff >= 1 else "N",
        ])  # fmt: skip
    return csv_lines(rows)


def _sirene_histo(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    E = {k: sig.etabs[k].tolist() for k in sig.etabs.columns}
    C = {k: sig.companies[k].tolist() for k in sig.companies.columns}
    rows: list[list[str]] = []
    for j in range(len(sig.etabs)):
        i = int(E["company"][j])
        if E["pseudo"][j] or C["created_m"][i] > b.end_m:
            continue
        created = str(C["date_creation"][i])[:10]
        base = [E["siren"][j], E["siret"][j][9:], E["siret"][j]]
        if C["op_end"][i] <= b.end_m:
            close = pd.Timestamp(_day(ctx, C["op_end"][i]))
            rows.append([*base, "", close.strftime("%Y-%m-%d"), "F", "true", "", "", "", "false", "", "false",
                         E["naf"][j], "NAFRev2", "false", "N", "true"])  # fmt: skip
            rows.append([*base, (close - pd.Timedelta(days=1)).strftime("%Y-%m-%d"), created, "A", "false", "", "",
                         "", "false", "", "false", E["naf"][j], "NAFRev2", "false", "O", "false"])  # fmt: skip
        else:
            rows.append([*base, "", created, "A", "false", "", "", "", "false", "", "false", E["naf"][j], "NAFRev2",
                         "false", "O", "false"])  # fmt: skip
    return csv_lines(rows)


BDF_SECTEUR = {"C": "01 Industrie et Transports (Hors TRM)", "H": "01 Industrie et Transports (Hors TRM)",
               "F": "02 Construction", "G": "03 Commerce", "I": "04 Hébergement et restauration"}  # fmt: skip


def _statements(sig: ChunkSignals, b: Batch, source: str) -> pd.DataFrame:
    """The statements ``source`` (``bdf`` or ``diane``) delivers in batch ``b`` (a stock: every one known by then)."""
    bl = sig.bilans
    if bl.empty:
        return bl
    return bl[bl[source].to_numpy() & b.stock(bl.avail_m)]


def _bdf(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    d = _statements(sig, b, "bdf")
    if d.empty:
        return []
    c = sig.companies
    ci = d.company.to_numpy()
    siren = c.siren.to_numpy()[ci]
    spaced = pd.Series([f"{s[:3]} {s[3:6]} {s[6:]}" for s in siren])
    close = ctx.date(d.close_m.to_numpy(), 1) + np.array(
        [pd.Period(f"2001-{m:02d}").days_in_month - 1 for m in d.close_month.to_numpy()]
    ).astype("timedelta64[D]")
    ca = d.ca.to_numpy()
    f1 = lambda v: pd.Series(np.round(v, 1)).astype(str)  # noqa: E731
    head = _head_office(sig)
    communes = sig.etabs.commune.tolist()
    postal = [communes[head[i]][1] for i in ci]
    return join([
        spaced, pd.Series(pd.DatetimeIndex(close).year + 1).astype(str), procol_date(close), pd.Series(c.name.to_numpy()[ci]).str.upper(),
        pd.Series(postal), "BOURGOGNE-FRANCHE-COMTE", pd.Series([BDF_SECTEUR.get(s, "05 Services") for s in c.section.to_numpy()[ci]]),
        f1(100 * (d.capitaux_propres.to_numpy() + d.dettes_fin.to_numpy() - 0.3 * ca) / np.maximum(ca, 1) * 3),
        f1(100 * d.ebe.to_numpy() / np.maximum(d.va.to_numpy(), 1)), f1(d.delai_frs.to_numpy()),
        f1(100 * d.dettes_fisc_soc.to_numpy() / np.maximum(ca, 1)), f1(100 * d.dettes_fin.to_numpy() / np.maximum(ca, 1) * 0.4),
        f1(100 * d.frais_fin.to_numpy() / np.maximum(d.ebe.to_numpy(), 1)),
    ], ";")  # fmt: skip


def _diane_latest_year(b: Batch, ctx: Context) -> int:
    return int((ctx.cal.start + b.end_m).year) - 1


def _diane_header(ctx: Context, b: Batch) -> str:
    y = _diane_latest_year(b, ctx)
    return ";".join(f'"{lab}"' if off is None else f'"{lab} {y - off}"' for lab, off in DIANE_COLUMNS)


def _diane(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    d = _statements(sig, b, "diane")
    if d.empty:
        return []
    y0 = _diane_latest_year(b, ctx)
    c = sig.companies
    names, sirens = c.name.tolist(), c.siren.tolist()
    values = _diane_values(d)  # label -> list of strings, one per row of d
    labels = [(" ".join(lab.split()), off) for lab, off in DIANE_COLUMNS]
    by_company: dict[int, dict[int, int]] = {}
    for pos, (ci, year) in enumerate(zip(d.company.tolist(), d.year.tolist(), strict=True)):
        by_company.setdefault(int(ci), {})[int(year)] = pos
    out = []
    for i in sorted(by_company):
        years = by_company[i]
        fixed = {"Marquée": "", "Nom de l'entreprise": names[i].upper(), "Numéro Siren": sirens[i],
                 "Statut juridique": "Société active", "Procédure collective": "", "Nombre d’ES": "",
                 "Nombre de filiales": "0", "Taille de la Composition du Groupe": "",
                 "Dernière année disponible": str(max(years))}  # fmt: skip
        cells = []
        for lab, off in labels:
            if off is None:
                cells.append(fixed.get(lab, ""))
            else:
                at = years.get(y0 - off)
                col = values.get(lab)
                cells.append("" if at is None or col is None else col[at])
        out.append(";".join(f'"{v}"' for v in cells))
    return out


def _diane_values(d: pd.DataFrame) -> dict[str, list[str]]:
    """DIANE fields the twin fills, as text with decimal commas; the other columns stay empty."""

    def num(v: npt.ArrayLike, digits: int = 2) -> list[str]:
        return [f"{x:.{digits}f}".replace(".", ",") for x in np.asarray(v, dtype=float)]

    ca, va, ebe = d.ca.to_numpy(), d.va.to_numpy(), d.ebe.to_numpy()
    kp, dfin, eff = d.capitaux_propres.to_numpy(), d.dettes_fin.to_numpy(), d.effectif.to_numpy()
    res, ff = d.resultat_expl.to_numpy(), d.frais_fin.to_numpy()
    close = [pd.Period(f"{y}-{m:02d}", "M").end_time.strftime("%d/%m/%Y")
             for y, m in zip(d.year.tolist(), d.close_month.tolist(), strict=True)]  # fmt: skip
    return {
        "Effectif consolidé": [str(int(x)) for x in eff],
        "Dettes fiscales et sociales kEUR": num(d.dettes_fisc_soc.to_numpy(), 0),
        "Date de clôture": close,
        "Nombre de mois": ["12"] * len(d),
        "Liquidité générale": num(d.liquidite.to_numpy()),
        "Liquidité réduite": num(d.liquidite.to_numpy() * 0.7),
        "Crédit clients jours": num(d.delai_clients.to_numpy(), 1),
        "Crédit fournisseurs jours": num(d.delai_frs.to_numpy(), 1),
        "C. A. par effectif (milliers/pers.) kEUR": num(ca / np.maximum(eff, 1)),
        "Taux d'endettement %": num(np.where(kp > 0, 100 * dfin / np.where(kp > 0, kp, 1), 999.0)),
        "Capacité d'autofin. %": num(100 * 0.8 * ebe / np.maximum(ca, 1)),
        "Rentabilité économique %": num(100 * res / np.maximum(ca, 1)),
        "Taux de valeur ajoutée %": num(100 * va / np.maximum(ca, 1)),
        "Chiffre d'affaires net (H.T.) kEUR": num(ca, 0),
        "Valeur ajoutée kEUR": num(va, 0),
        "Charges de personnel kEUR": num(d.personnel.to_numpy(), 0),
        "Excédent brut d'exploitation kEUR": num(ebe, 0),
        "Résultat d'expl. kEUR": num(res, 0),
        "Charges fin. kEUR": num(ff, 0),
        "Intérêts et charges assimilées kEUR": num(ff * 0.9, 0),
        "Bénéfice ou perte kEUR": num(res - ff, 0),
        "Endettement %": num(100 * dfin / np.maximum(kp + dfin, 1)),
        "Autonomie fin. %": num(100 * kp / np.maximum(kp + dfin + 0.5 * ca, 1)),
    }


def _paydex(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    d = sig.paydex[b.flux(sig.paydex.avail_m)]
    if d.empty:
        return []
    days = d.days.astype(str)
    return join([pd.Series(sig.companies.siren.to_numpy()[d.company.to_numpy()]), days, days + " jours",
                 fr_date(ctx.date(d.m.to_numpy(), 15))], ";")  # fmt: skip


def _altares_values(sig: ChunkSignals, ctx: Context, d: pd.DataFrame) -> dict[str, pd.Series]:
    """The Altares values of paydex rows ``d``: SIREN, paydex code and label, days late, suppliers, amount
    studied, payment experiences, FPI 30 and 90 (empty when not scored), the value date (15th of the month)."""
    days = d.days.to_numpy()
    c, m = d.company.to_numpy(), d.m.to_numpy()
    suppliers = 3 + (c * 7 + m // 6) % 40
    fpi = [pd.Series(np.where(np.isnan(v), "", np.nan_to_num(v).astype(np.int64).astype(str)))
           for v in (d.fpi_30.to_numpy(), d.fpi_90.to_numpy())]  # fmt: skip
    return {
        "siren": pd.Series(sig.companies.siren.to_numpy()[c]),
        "code": pd.Series([f"{max(1, 80 - int(x)):03d}" for x in days]),
        "label": pd.Series(days.astype(str)) + " jours",
        "days": pd.Series(days.astype(str)),
        "suppliers": pd.Series(suppliers.astype(str)),
        "amount": pd.Series([f"{x:.3f}" for x in suppliers * 2513.271 + (c % 97) * 101.5]),
        "experiences": pd.Series((suppliers * 3 + m % 5).astype(str)),
        "fpi_30": fpi[0],
        "fpi_90": fpi[1],
        "date": pd.Series(ctx.date(m, 15)),
    }


def _altares_stock(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    """The Altares stock file (first batch): every paydex row known by then, FPI included."""
    d = sig.paydex[b.stock(sig.paydex.avail_m)]
    if d.empty:
        return []
    v = _altares_values(sig, ctx, d)
    return join([v["siren"], "Actif", v["code"], v["label"], v["days"], v["suppliers"], v["amount"],
                 v["experiences"], v["fpi_30"], v["fpi_90"], fr_date(v["date"].to_numpy())], ";")  # fmt: skip


def _altares_increment(sig: ChunkSignals, ctx: Context, b: Batch) -> list[str]:
    """The monthly Altares increment (later batches): the rows of the month, one per company (head office), 31
    columns, each line ending with ``;``."""
    d = sig.paydex[b.flux(sig.paydex.avail_m)]
    if d.empty:
        return []
    v = _altares_values(sig, ctx, d)
    e = sig.etabs
    head = _head_office(sig)[d.company.to_numpy()]
    commune = e.commune.to_numpy()[head]
    postal = pd.Series([c[1] for c in commune])
    city = pd.Series([c[2].upper() for c in commune])
    names = pd.Series(
        [n.upper().replace(";", " ") for n in sig.companies.name.to_numpy()[d.company.to_numpy()]]
    )
    return join([v["siren"], v["siren"], pd.Series(e.siret.to_numpy()[head]), names, "", "", "", "",
                 "1 RUE DU COMMERCE", "", postal + " " + city, "FRANCE", postal, city, "Siège", "1", "Siège social",
                 "Actif", "Actif", "", "O", v["code"], v["days"], v["suppliers"],
                 v["amount"].str.replace(".", ",", regex=False), "0", v["fpi_30"], v["fpi_90"], "PAY",
                 "Mise à jour des indicateurs de paiement", iso_date(v["date"].to_numpy()), ""], ";")  # fmt: skip


ALTARES_STOCK_HEADER = (
    "SIREN;ETAT_ORGANISATION;CODE_PAYDEX;PAYDEX;NBR_JRS_RETARD;NBR_FOURNISSEURS;ENCOURS_ETUDIES;"
    "NBR_EXPERIENCES_PAIEMENT;NOTE100_ALERTEUR_PLUS_30;NOTE100_ALERTEUR_PLUS_90_JOURS;DATE_VALEUR"
)
ALTARES_INCREMENT_HEADER = (
    "Référence Client;Siren;Siret;Raison sociale 1;Raison sociale 2;Enseigne;Sigle;Complément d'adresse;Adresse;"
    "Distribution spéciale;Code postal et bureau distributeur;Pays;Code postal;Ville;Qualité Etablissement;"
    "Code type d'établissement;Libellé type d'établissement;Etat d'activité établissement;"
    "Etat d'activité entreprise;Etat de procédure collective;Diffusible;Paydex;Retard moyen de paiements (j);"
    "Nombre de fournisseurs analysés;Montant total des encours étudiés (€);"
    "Montant total des encours échus non réglés (€);FPI 30+;FPI 90+;Code du mouvement;Libellé du mouvement;"
    "Date d'effet du mouvement;"
)


def _name(fixed: str) -> Callable[[Batch], str]:
    return lambda b: fixed


FILES: tuple[FileSpec, ...] = (
    FileSpec("cotisation", _name("sigfaible_cotisdues.csv.gz"),
             lambda c, b: "Urssaf_gestion;Dep;Siret;Compte;periode;mer;enc_direct;cotis_due", _cotisations, "flux",
             gzip=True),
    FileSpec("debit", _name("sigfaible_debits.csv"),
             lambda c, b: "Urssaf_gestion;Dep;num_cpte;Siren;Siret;Dt_immat;Etat_cpte;Cd_pro_col;Periode;Num_Ecn;"
             "Num_Hist_Ecn;Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;Motif_ecn;Recours_en_cours", _debits, "flux"),
    FileSpec("delai", _name("sigfaible_delais.csv"),
             lambda c, b: "Urssaf_gestion;Dep;Siret;Numero_compte_externe;Numero_structure;Date_creation;"
             "Date_echeance;Duree_delai;Denomination_premiere_ligne;Indic_6M;Annee_creation;"
             "Montant_global_echeancier;Code_externe_stade;Code_externe_action", _delais, "flux"),
    FileSpec("ccsf", _name("sigfaible_ccsf.csv"),
             lambda c, b: "Urssaf_gestion;Dep;Siret;Compte;Date_de_traitement;Code_externe_stade;Code_externe_action",
             _ccsf, "flux"),
    FileSpec("procol", _name("sigfaible_pcoll.csv"), lambda c, b: "Siret;Siren;Dt_effet;Cat_v2;Lib_actx_stdx",
             _procol, "flux"),
    FileSpec("effectif", _name("sigfaible_effectif_siret.csv"),
             lambda c, b: ";".join(["compte", "siret", "rais_soc", "ape_ins", "dep", *_eff_header_cols(c, b), "base",
                                    "UR_EMET"]), _effectif, "stock"),
    FileSpec("effectif_ent", _name("sigfaible_effectif_siren.csv"),
             lambda c, b: ";".join(["siren", *_eff_header_cols(c, b), "rais_soc"]), _effectif_ent, "stock"),
    FileSpec("compte", _name("Sigfaible_etablissement_utf8.csv"),
             lambda c, b: "Urssaf_gestion;Dep;Compte;Etat_compte;Siren;Siret;Date_crea_siret;Date_disp_siret",
             _comptes, "stock"),
    FileSpec("apdemande", _name("demande_ap.csv"),
             lambda c, b: ",".join(f'"{h}"' for h in (
                 "ID_DA", "ETAB_SIRET", "EFF_ENT", "EFF_ETAB", "DATE_STATUT", "DATE_DEB", "DATE_FIN", "HTA", "MTA",
                 "EFF_AUTO", "MOTIF_RECOURS_SE", "PERIMETRE_AP", "S_HEURE_CONSOM_TOT", "S_EFF_CONSOM_TOT",
                 "S_MONTANT_CONSOM_TOT", "RECOURS_ANTERIEUR")), _apdemande, "stock"),
    FileSpec("apconso", _name("consommation_ap.csv"),
             lambda c, b: '"ID_DA","ETAB_SIRET","HEURES","MONTANTS","EFFECTIFS","MOIS"', _apconso, "stock"),
    FileSpec("sirene", _name("StockEtablissement_utf8_geo.csv"), lambda c, b: SIRENE_HEADER, _sirene, "stock"),
    FileSpec("sirene_ul", _name("sireneUL.csv"), lambda c, b: SIRENE_UL_HEADER, _sirene_ul, "stock"),
    FileSpec("sirene_histo", _name("StockEtablissementHistorique_utf8.csv"), lambda c, b: SIRENE_HISTO_HEADER,
             _sirene_histo, "stock"),
    FileSpec("bdf", _name("bdf_ratios.csv"),
             lambda c, b: "D1;ANNEE;ARRETE_BILAN;DENOM;CP;REGION;SECTEUR;POIDS_FRNG;TX_MARGE;DELAI_FRS;"
             "POIDS_DFISC_SOC;POIDS_FIN_CT;POIDS_FRAIS_FIN", _bdf, "stock"),
    FileSpec("diane", _name("Diane_export.txt"), _diane_header, _diane, "stock", encoding="utf-16-le",
             newline="\r\n", bom=True),
    FileSpec("paydex", lambda b: f"E_20{b.name}000001_Retro-Paydex_20{b.name}15.csv",
             lambda c, b: "SIREN;NB_JOURS;NB_JOURS_LIB;DATE_VALEUR", _paydex, "flux", encoding="iso-8859-15"),
    FileSpec("altares_stock", lambda b: f"SF_DATA_20{b.name}01.txt", lambda c, b: ALTARES_STOCK_HEADER,
             _altares_stock, "stock", batches="initial"),
    FileSpec("altares_increment", lambda b: f"S_202011095834-3_20{b.name}010315.csv",
             lambda c, b: ALTARES_INCREMENT_HEADER, _altares_increment, "flux", encoding="iso-8859-15",
             newline="\r\n", batches="later", trailer=lambda n: f"Fin du fichier : total {n} ligne(s);"),
)  # fmt: skip

ELLISPHERE_HEADER = (
    "GRP Code", "GRP Personne PouM", "GRP SIREN 9", "GRP RefID", "GRP Raison Sociale", "GRP Adresse",
    "GRP Code Postal", "GRP Ville", "GRP Pays", "Niveau de détention", "% Financier", "Tranche % Financier",
    "FIL Code", "FIL Personne PouM", "FIL SIREN 9", "FIL RefID", "FIL Raison Sociale", "FIL Adresse",
    "FIL Code Postal", "FIL Ville", "FIL Pays",
)  # fmt: skip


def ellisphere_rows(sig: ChunkSignals, b: Batch, rng_key: int) -> list[list[object]]:
    """Group links: about 8 % of firms with 20+ employees belong to a group."""
    E = {k: sig.etabs[k].tolist() for k in sig.etabs.columns}
    C = {k: sig.companies[k].tolist() for k in sig.companies.columns}
    rows: list[list[object]] = []
    head = _head_office(sig)
    for i in range(len(sig.companies)):
        h = (int(C["siren"][i]) * 7919 + rng_key) % 1000
        if C["effectif0"][i] < 20 or h >= 80 or C["created_m"][i] > b.end_m:
            continue
        grp = 700_000_000 + (h * 104729) % 99_999_999
        pct = 50 + (h % 50)
        _, postal, commune = E["commune"][head[i]]
        rows.append([
            f"G{h:05d}", "M", f"{grp:09d}", f"R{grp}", "GROUPE " + C["name"][i].split(" ")[1].upper(), "1 RUE DU SIEGE",
            postal, commune.upper(), "FRANCE", 1, pct, "50-100 %" if pct >= 50 else "10-50 %", f"F{i:06d}", "M",
            C["siren"][i], "R" + C["siren"][i], C["name"][i].upper(), "", postal, commune.upper(), "FRANCE",
        ])  # fmt: skip
    return rows
