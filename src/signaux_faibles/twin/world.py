"""The twin's hidden world: population, latent financial health, hazards and the oracle.

Financial health is a Markov chain over ``N_STATES`` ordered states (0 = thriving … 9 = critical), obtained by
discretising a mean-reverting AR(1) process whose mean depends on the company's hidden *fragility* class and whose
shocks depend on the sector and the macro regime (one crisis with State support). Collective proceedings (first
judgment) and voluntary closures are competing monthly hazards of the state. Because the process is a finite
Markov chain with known (month-dependent) matrices, the probability of a first judgment within 18 months given the
hidden state is computed **exactly** by propagating the chain: that is ``p_failure_18m``, the oracle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from math import erf, sqrt

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..geo import departements_of
from ..identifiers import luhn_complete
from ..naf import nomenclature

N_STATES = 10
HORIZON = 18  # months of the target

# Share of NAF sections among firms with employees (roughly INSEE's mix of employer firms) and the
# excluded ones (public administration, education, finance) so that the perimeter has something to exclude.
SECTION_WEIGHTS: dict[str, float] = {
    "A": 0.010, "B": 0.002, "C": 0.130, "D": 0.004, "E": 0.008, "F": 0.150, "G": 0.220, "H": 0.060,
    "I": 0.100, "J": 0.035, "K": 0.015, "L": 0.020, "M": 0.070, "N": 0.070, "O": 0.005, "P": 0.015,
    "Q": 0.050, "R": 0.015, "S": 0.021,
}  # fmt: skip
SECTIONS = tuple(SECTION_WEIGHTS)
# Crisis severity by section (accommodation, leisure and transport hit hardest, health least).
CRISIS_SEVERITY: dict[str, float] = {"I": 1.7, "R": 1.5, "H": 1.1, "G": 0.8, "C": 0.8, "N": 0.9, "F": 0.5, "Q": 0.2}

LEGAL_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("5710", 0.44), ("5499", 0.33), ("5599", 0.03), ("5498", 0.05), ("5699", 0.01), ("1000", 0.04),
    ("9220", 0.045), ("6540", 0.01), ("5306", 0.01), ("5202", 0.01), ("6316", 0.002),
    ("7210", 0.004), ("7348", 0.002), ("4110", 0.003), ("7389", 0.003), ("7490", 0.003),
)  # fmt: skip


@dataclass(frozen=True)
class Dynamics:
    """Parameters of the hidden process (calibrated: see ``docs/twin.md``)."""

    rho: float = 0.99  # monthly persistence of the latent health
    sigma: float = 0.2  # monthly innovation
    fragility_means: tuple[float, float, float] = (1.0, 2.2, 3.8)  # robust, normal, fragile
    fragility_shares: tuple[float, float, float] = (0.35, 0.45, 0.20)
    jump_prob: float = 0.0005  # sudden shock (loss of a client…): weak or late signals
    jump_size: int = 3
    sector_shock_sd: float = 0.5  # yearly sector conditions (equilibrium shift, in states)
    crisis_shift: float = 2.0  # equilibrium worsening during the crisis, times the sector's severity
    hazard_at_worst: float = 0.09  # monthly hazard of a first judgment in the worst state
    hazard_slope: float = 0.9  # log-hazard per state
    size_hazard: tuple[float, float, float, float] = (1.4, 1.0, 0.6, 0.4)  # <10, 10-49, 50-249, 250+
    crisis_support: float = 0.3  # hazard multiplier while the State supports firms
    support_phase_out: int = 9  # months to return to the normal hazard after the crisis
    catch_up: float = 1.1  # hazard multiplier during the 12 months after the phase-out
    closure_base: float = 0.0015  # voluntary closure (no proceedings), monthly
    closure_distress: float = 0.002  # extra closure hazard in states >= 6


@dataclass
class Calendar:
    """Months of the simulation: the delivered window followed by the hidden 18 months."""

    start: pd.Period  # first delivered month
    end: pd.Period  # last delivered month
    months: pd.PeriodIndex = field(init=False)
    crisis_start: int = field(init=False)
    crisis_end: int = field(init=False)  # exclusive

    def __post_init__(self) -> None:
        self.months = pd.period_range(self.start, self.end + HORIZON, freq="M")
        covid_start, covid_end = pd.Period("2020-03", "M"), pd.Period("2021-07", "M")
        if covid_start >= self.start and covid_start <= self.end:
            self.crisis_start = int((covid_start - self.start).n)
            self.crisis_end = int((covid_end - self.start).n)
        else:  # a crisis a third of the way through the window, 16 months long
            self.crisis_start = len(self.delivered) // 3
            self.crisis_end = self.crisis_start + 16

    @property
    def delivered(self) -> pd.PeriodIndex:
        return self.months[self.months <= self.end]

    @property
    def n(self) -> int:
        return len(self.months)

    def index(self, p: pd.Period) -> int:
        return int((p - self.start).n)


def _norm_cdf(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 0.5 * (1.0 + np.vectorize(erf)(x / sqrt(2.0)))


class World:
    """Transition matrices, hazards and the oracle for a calendar and a set of sectors."""

    def __init__(self, dyn: Dynamics, cal: Calendar, rng: np.random.Generator) -> None:
        self.dyn, self.cal = dyn, cal
        n_sec, t = len(SECTIONS), cal.n
        years = np.array([m.year for m in cal.months])
        uniq_years = np.unique(years)
        sector_year = rng.normal(0.0, dyn.sector_shock_sd, size=(n_sec, len(uniq_years)))
        shift = sector_year[:, np.searchsorted(uniq_years, years)]  # (sector, month)
        severity = np.array([CRISIS_SEVERITY.get(s, 0.6) for s in SECTIONS])
        crisis = np.zeros(t)
        crisis[cal.crisis_start : min(cal.crisis_end, t)] = 1.0
        self.crisis = crisis
        shift = shift + dyn.crisis_shift * severity[:, None] * crisis[None, :]
        # transition matrices T[f, sector, month, x, x'] for the move from month-1 into month
        centers = np.arange(N_STATES, dtype=float)
        edges = np.concatenate([[-np.inf], centers[:-1] + 0.5, [np.inf]])
        mu = np.array(dyn.fragility_means)
        # shifts are equilibrium levels (in states): they enter the AR(1) mean scaled by (1 - rho)
        mean = dyn.rho * centers[None, None, None, :] + (1 - dyn.rho) * (
            mu[:, None, None, None] + shift[None, :, :, None]
        )  # (f, s, t, x)
        cdf = _norm_cdf((edges[None, None, None, None, :] - mean[..., None]) / dyn.sigma)
        trans = np.diff(cdf, axis=-1)  # (f, s, t, x, x')
        jump = np.zeros((N_STATES, N_STATES))
        for x in range(N_STATES):
            jump[x, min(x + dyn.jump_size, N_STATES - 1)] = 1.0
        trans = (1 - dyn.jump_prob) * trans + dyn.jump_prob * jump
        self.trans = trans / trans.sum(axis=-1, keepdims=True)
        self.trans_cum = np.cumsum(self.trans, axis=-1)
        # hazards
        base = dyn.hazard_at_worst * np.exp(dyn.hazard_slope * (centers - (N_STATES - 1)))
        regime = np.ones(t)
        ce = min(cal.crisis_end, t)
        regime[cal.crisis_start : ce] = dyn.crisis_support
        for k in range(dyn.support_phase_out):
            if ce + k < t:
                regime[ce + k] = dyn.crisis_support + (1 - dyn.crisis_support) * (k + 1) / (
                    dyn.support_phase_out + 1
                )
        regime[ce + dyn.support_phase_out : ce + dyn.support_phase_out + 12] = dyn.catch_up
        self.regime = regime
        size = np.array(dyn.size_hazard)
        self.hazard = np.minimum(size[:, None, None] * regime[None, :, None] * base[None, None, :], 0.5)
        self.closure = np.where(centers >= 6, dyn.closure_base + dyn.closure_distress, dyn.closure_base)
        # stationary distribution of the first month's chain, per (fragility, sector): the initial states
        p0 = np.full((*self.trans.shape[:2], N_STATES), 1.0 / N_STATES)
        for _ in range(300):
            p0 = np.einsum("fsx,fsxy->fsy", p0, self.trans[:, :, 0])
        self.initial_cum = np.cumsum(p0, axis=-1)

    def oracle(self, frozen: bool = False) -> npt.NDArray[np.float64]:
        """``V[f, sector, size, month, x]``: P(first judgment within months m..m+17 | state x at m, active).

        Exact propagation of the chain: failure in month m happens with ``hazard(x_m)``, then closure, then the
        move to month m+1. By default the propagation uses the months' actual matrices and hazards, so it knows
        the future sector shocks and the crisis regime (``p_failure_18m``). With ``frozen=True`` the conditions of
        month m are held for the next 18 months: the best forecast from what exists at m (the hidden state, the
        company's type and the current conditions), without knowledge of the future (``p_failure_18m_now``).
        """
        n_f, n_s, t = self.trans.shape[0], self.trans.shape[1], self.cal.n
        n_size = self.hazard.shape[0]
        out = np.zeros((n_f, n_s, n_size, t, N_STATES))
        eye = np.broadcast_to(np.eye(N_STATES), (n_f, n_s, n_size, N_STATES, N_STATES))
        for m in range(t):
            alive = eye.copy()
            cum = np.zeros((n_f, n_s, n_size, N_STATES))
            for k in range(HORIZON):
                mm = m + k
                if mm >= t:
                    break
                at = m if frozen else mm
                lam = self.hazard[:, at, :]  # (size, x)
                cum += (alive * lam[None, None, :, None, :]).sum(axis=-1)
                alive = alive * (1 - lam[None, None, :, None, :] - self.closure[None, None, None, None, :])
                if mm + 1 < t:
                    alive = np.matmul(alive, self.trans[:, :, None, (m if frozen else mm + 1)])
            out[:, :, :, m, :] = cum
        return out


def size_class(effectif: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    return np.searchsorted(np.array([10, 50, 250]), effectif, side="right").astype(np.int64)


def _unique_ids(rng: np.random.Generator, n: int, low: int, high: int) -> npt.NDArray[np.int64]:
    out = np.unique(rng.integers(low, high, size=int(n * 1.2) + 10))
    while len(out) < n:
        out = np.unique(np.concatenate([out, rng.integers(low, high, size=n)]))
    return rng.permutation(out)[:n]


def make_population(
    n_companies: int, cal: Calendar, regions: str, dyn: Dynamics, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Companies and establishments of the synthetic region.

    Returns
    -------
    companies : one row per SIREN (hidden columns ``fragility``, ``size_class`` and ``created_m``)
    establishments : one row per SIRET (``pseudo`` marks ACOSS pseudo-SIRETs, absent from SIRENE)
    """
    depts = departements_of(regions)
    companies, siren = _companies(n_companies, cal, dyn, rng)
    return companies, _establishments(companies, siren, depts, rng)


def _companies(
    n: int, cal: Calendar, dyn: Dynamics, rng: np.random.Generator
) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:
    """The companies (sector, legal category, SIREN, head count, fragility, creation, wage, name), and their SIREN as
    integers."""
    naf = nomenclature()
    by_section: dict[str, list[str]] = {}
    for code, v in naf.items():
        by_section.setdefault(v.section, []).append(code)
    w = np.array([SECTION_WEIGHTS[s] for s in SECTIONS])
    sec_idx = rng.choice(len(SECTIONS), size=n, p=w / w.sum())
    naf_codes = np.array([by_section[SECTIONS[i]][rng.integers(len(by_section[SECTIONS[i]]))] for i in sec_idx])
    cats, cw = zip(*LEGAL_CATEGORIES, strict=True)
    cwa = np.array(cw)
    legal = rng.choice(np.array(cats), size=n, p=cwa / cwa.sum())
    siren = luhn_complete(_unique_ids(rng, n, 10_000_000, 99_999_999), 9)
    # headcount: heavy-tailed (log-normal body, Pareto tail); a third of firms stay under 10 employees
    eff = np.exp(rng.normal(np.log(13.0), 0.95, size=n))
    tail = rng.random(n) < 0.03
    eff[tail] = 50 * (1 - rng.random(tail.sum())) ** (-1 / 1.1)
    eff = np.clip(np.round(eff), 1, 20_000)
    fragility = rng.choice(3, size=n, p=np.array(dyn.fragility_shares))
    # creation: most firms are old; ~15 % are created during the delivered window
    window = len(cal.delivered)
    created_m = np.where(
        rng.random(n) < 0.15,
        rng.integers(1, max(window, 2), size=n),
        -rng.integers(1, 12 * 40, size=n),
    )
    young = created_m > -36
    eff[young] = np.clip(np.round(eff[young] * 0.6), 1, None)
    created_date = [(cal.start + int(m)).to_timestamp() + pd.Timedelta(days=int(d)) for m, d in
                    zip(created_m, rng.integers(0, 28, size=n), strict=True)]  # fmt: skip
    abroad = rng.random(n) < 0.004
    companies = pd.DataFrame(
        {
            "siren": [f"{s:09d}" for s in siren],
            "naf": naf_codes,
            "section": np.array(SECTIONS)[sec_idx],
            "section_idx": sec_idx,
            "categorie_juridique": legal,
            "effectif0": eff,
            "size_class": size_class(eff),
            "fragility": fragility,
            "created_m": created_m,
            "date_creation": pd.to_datetime(created_date),
            "siege_abroad": abroad,
            "wage": rng.normal(2900, 450, size=n).clip(1800, 6000),
            "name": [_company_name(rng) for _ in range(n)],
            "group_head": -1,
        }
    )
    return companies, siren


def _establishments(
    companies: pd.DataFrame, siren: npt.NDArray[np.int64], depts: list[str], rng: np.random.Generator
) -> pd.DataFrame:
    """The establishments: bigger firms have more of them, mostly in the head office's département; ACOSS
    pseudo-SIRETs (temporary work agencies, and a few others) fail the Luhn key."""
    n, eff = len(companies), companies.effectif0.to_numpy()
    n_etab = 1 + rng.poisson(np.clip(np.log1p(eff) - 1.6, 0, None) * 0.6)
    n_etab = np.minimum(n_etab, 30)
    rows = []
    home = rng.choice(len(depts), size=n)
    for i in range(n):
        k = int(n_etab[i])
        share = rng.dirichlet(np.ones(k) * 2.0) if k > 1 else np.ones(1)
        share = np.sort(share)[::-1]
        nics = np.sort(rng.choice(np.arange(1, 900), size=k, replace=False))
        for j in range(k):
            same = j == 0 or rng.random() < 0.75
            d = depts[home[i]] if same else depts[rng.integers(len(depts))]
            rows.append((i, j == 0, int(nics[j]), d, float(share[j]), False))
        if companies.naf.iat[i] == "78.20Z" or rng.random() < 0.003:  # ACOSS pseudo-SIRET
            rows.append((i, False, 9000 + int(rng.integers(0, 999)), depts[home[i]], 0.0, True))
    et = pd.DataFrame(rows, columns=["company", "siege", "nic_base", "departement", "share", "pseudo"])
    sir = siren[et.company.to_numpy()]
    body = sir * 10_000 + et.nic_base.to_numpy()
    siret = luhn_complete(body, 14)
    pseudo = et.pseudo.to_numpy()
    siret = np.where(pseudo, body * 10 + (siret % 10 + 1) % 10, siret)  # pseudo-SIRETs fail the Luhn key
    et["siret"] = [f"{s:014d}" for s in siret]
    et["siren"] = companies.siren.to_numpy()[et.company.to_numpy()]
    et["naf"] = companies.naf.to_numpy()[et.company.to_numpy()]
    et["compte"] = [f"{v:018d}" for v in _unique_ids(rng, len(et), 10**17, 10**18 - 1)]
    et["commune"] = [_commune(rng, d) for d in et.departement]
    et.loc[et.siege.to_numpy() & companies.siege_abroad.to_numpy()[et.company.to_numpy()], "departement"] = ""
    return et


_NAME_A = ("Atelier", "Boulangerie", "Transports", "Menuiserie", "Garage", "Société", "Établissements", "Hôtel",
           "Restaurant", "Bâtiment", "Imprimerie", "Laboratoire", "Maison", "Comptoir", "Fromagerie", "Ateliers")
_NAME_B = ("Dupont", "Martin", "Bernard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre",
           "Michel", "Garcia", "Fournier", "Girard", "Bonnet", "Mercier", "Chevalier", "Gauthier", "Rousseau")
_NAME_C = ("", "", " et Fils", " Frères", " SAS", " & Cie", " du Centre", " de l'Est", " Bourguignon", " Comtois")
_COMMUNE = ("Saint-Martin", "Villeneuve", "Beaumont", "Montigny", "Fontaine", "Châtillon", "Chevigny",
            "Sainte-Marie", "Champagne", "Bellevue", "Marcilly", "Vaux", "Pouilly", "Chaumont", "Longvic")
_COMMUNE_B = ("", "-sur-Saône", "-le-Château", "-lès-Dijon", "-en-Bresse", "-sur-Loire", "-la-Forêt", "-le-Vieux")  # fmt: skip


def _company_name(rng: np.random.Generator) -> str:
    return f"{_NAME_A[rng.integers(len(_NAME_A))]} {_NAME_B[rng.integers(len(_NAME_B))]}{_NAME_C[rng.integers(len(_NAME_C))]}"


def _commune(rng: np.random.Generator, dept: str) -> tuple[str, str, str]:
    """(codeCommune, codePostal, libelleCommune) of a synthetic commune of ``dept``."""
    num = int(rng.integers(1, 400))
    if len(dept) == 3:
        code = f"{dept}{num % 100:02d}"
        postal = f"{dept}{num % 100:02d}"
    else:
        code = f"{dept}{num:03d}"
        postal = f"{'20' if dept in ('2A', '2B') else dept}{(num * 7) % 1000:03d}"
    name = f"{_COMMUNE[num % len(_COMMUNE)]}{_COMMUNE_B[(num // 7) % len(_COMMUNE_B)]}"
    return code, postal, name


def simulate_states(
    companies: pd.DataFrame, world: World, rng: np.random.Generator
) -> dict[str, npt.NDArray[np.int64]]:
    """Hidden monthly trajectories of a chunk of companies.

    Returns ``state`` (company × month, -1 when not active), ``status`` (0 not yet created, 1 active,
    2 in proceedings, 3 closed), ``failure_m`` (month of the first judgment, -1 if none), ``closure_m``.
    """
    n, t = len(companies), world.cal.n
    f = companies.fragility.to_numpy()
    s = companies.section_idx.to_numpy()
    z = companies.size_class.to_numpy()
    created = companies.created_m.to_numpy()
    x = np.minimum((rng.random(n)[:, None] > world.initial_cum[f, s]).sum(axis=1), N_STATES - 1)
    x = np.where(created > -36, np.minimum(x + 1, N_STATES - 1), x)  # young firms start weaker
    state = np.full((n, t), -1, dtype=np.int64)
    status = np.zeros((n, t), dtype=np.int64)
    failure_m = np.full(n, -1, dtype=np.int64)
    closure_m = np.full(n, -1, dtype=np.int64)
    active = created <= 0
    for m in range(t):
        if m > 0:
            cum = world.trans_cum[f, s, m, x]  # (n, x')
            u = rng.random(n)
            x = np.minimum((u[:, None] > cum).sum(axis=1), N_STATES - 1)
        born = created == m
        active = active | born
        state[active, m] = x[active]
        status[active, m] = 1
        lam = world.hazard[z, m, x]
        kap = world.closure[x]
        u = rng.random(n)
        fails = active & (u < lam)
        closes = active & ~fails & (u < lam + kap)
        failure_m[fails] = m
        closure_m[closes] = m
        active = active & ~fails & ~closes
        # status after the event month: proceedings / closed (set for following months)
        if m + 1 < t:
            status[(failure_m >= 0) & (failure_m <= m), m + 1] = 2
            status[(closure_m >= 0) & (closure_m <= m), m + 1] = 3
    return {"state": state, "status": status, "failure_m": failure_m, "closure_m": closure_m}


def first_of_month(p: pd.Period) -> date:
    ts = p.to_timestamp()
    return date(ts.year, ts.month, 1)
