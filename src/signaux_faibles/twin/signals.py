"""What the partners observe of the hidden world: one chunk of companies → event tables (numbers, not text).

Every table carries ``avail_m``, the month (index in the calendar) from which the partner knows the row: flux
files deliver a row in the batch covering ``avail_m``, stock files deliver every row with ``avail_m`` up to the
batch. Signals are noisy, lagged and partial on purpose (see ``docs/twin.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from .world import CRISIS_SEVERITY, HORIZON, World

NEVER = 10**6


@dataclass
class ChunkSignals:
    companies: pd.DataFrame  # + op_start, op_end, failure_m, procol_kind, plan_m
    etabs: pd.DataFrame
    effectif: npt.NDArray[np.float64]  # (etab, month), NaN when not operating
    cotisations: pd.DataFrame
    debits: pd.DataFrame
    delais: pd.DataFrame
    ccsf: pd.DataFrame
    procol: pd.DataFrame
    apdemande: pd.DataFrame
    apconso: pd.DataFrame
    bilans: pd.DataFrame
    paydex: pd.DataFrame
    truth: pd.DataFrame


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class _Proceedings:
    """Each company's collective proceeding (if it fails) and the months it operates."""

    kind: npt.NDArray[np.str_]
    resol: npt.NDArray[np.int64]
    plan: npt.NDArray[np.bool_]
    op_start: npt.NDArray[np.int64]
    op_end: npt.NDArray[np.int64]
    operating: npt.NDArray[np.bool_]  # (company, month)
    sx: npt.NDArray[np.float64]  # observed state (company, month), NaN when not operating


def observe(
    companies: pd.DataFrame,
    etabs: pd.DataFrame,
    hidden: dict[str, npt.NDArray[np.int64]],
    world: World,
    oracle: npt.NDArray[np.float64],
    rng: np.random.Generator,
    oracle_now: npt.NDArray[np.float64] | None = None,
) -> ChunkSignals:
    cal = world.cal
    t_deliv = len(cal.delivered)
    fm, cm = hidden["failure_m"], hidden["closure_m"]
    sev = np.array([CRISIS_SEVERITY.get(s, 0.6) for s in companies.section])
    pr = _proceedings(companies, hidden, cal.n, rng)
    ci = etabs.company.to_numpy()
    eff, ent_eff = _headcount(companies, etabs, pr, world.crisis, rng)
    xs = np.nan_to_num(pr.sx[ci], nan=0.0)
    cotis, unpaid, has_debt = _cotisations(companies, ci, eff, xs, sev, pr.operating, cal.crisis_start, rng)
    e_idx, m_idx = np.nonzero(has_debt)
    debits, delais = _debts(e_idx, m_idx, unpaid, xs, pr.op_end[ci], fm[ci], cal.crisis_start, world, rng)
    ccsf = _ccsf(companies, pr.sx, has_debt, ci, rng)
    procol = _procol(companies, etabs, fm, pr.kind, pr.resol, pr.plan, rng)
    apdemande, apconso = _ap(etabs, eff, pr.sx[ci], sev[ci], pr.operating[ci], cal.crisis_start, t_deliv, rng)
    bilans = _bilans(companies, pr.sx, ent_eff, world, rng)
    paydex = _paydex(companies, pr.sx, world.crisis, rng)
    truth = _truth(companies, hidden, oracle, oracle_now, t_deliv)
    comp = companies.assign(
        op_start=pr.op_start, op_end=pr.op_end, failure_m=fm, procol_kind=np.where(fm >= 0, pr.kind, ""),
        plan=pr.plan & (fm >= 0), resol_m=np.where(fm >= 0, pr.resol, -1), closure_m=cm,
    )  # fmt: skip
    return ChunkSignals(
        comp, etabs, eff, cotis, debits, delais, ccsf, procol, apdemande, apconso, bilans, paydex, truth
    )


def _proceedings(
    companies: pd.DataFrame, hidden: dict[str, npt.NDArray[np.int64]], t: int, rng: np.random.Generator
) -> _Proceedings:
    """Collective proceedings: kind, resolution, end of operations; the observed state: the hidden one, then
    distress until a plan, then recovery."""
    n = len(companies)
    state, fm, cm = hidden["state"], hidden["failure_m"], hidden["closure_m"]
    u = rng.random(n)
    kind = np.where(u < 0.65, "liquidation", np.where(u < 0.99, "redressement", "sauvegarde"))
    resol = fm + np.where(kind == "sauvegarde", rng.integers(6, 13, n), rng.integers(3, 10, n))
    plan = (kind != "liquidation") & (rng.random(n) < np.where(kind == "sauvegarde", 0.35, 0.30))
    op_end = np.full(n, t, dtype=np.int64)
    op_end = np.where(cm >= 0, cm + 1, op_end)
    op_end = np.where((fm >= 0) & (kind == "liquidation"), fm + 1, op_end)
    op_end = np.where((fm >= 0) & (kind != "liquidation") & ~plan, resol + 1, op_end)
    op_start = np.maximum(companies.created_m.to_numpy(), 0)
    months = np.arange(t)
    operating = (months[None, :] >= op_start[:, None]) & (months[None, :] < op_end[:, None])
    sx = state.astype(float).copy()
    after = (fm[:, None] >= 0) & (months[None, :] > fm[:, None])
    sx[after] = 8.0
    sx[after & plan[:, None] & (months[None, :] >= resol[:, None])] = 5.0
    sx[~operating] = np.nan
    return _Proceedings(kind, resol, plan, op_start, op_end, operating, sx)


def _headcount(
    companies: pd.DataFrame, etabs: pd.DataFrame, pr: _Proceedings, crisis: npt.NDArray[np.float64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:  # fmt: skip
    """Head count per establishment and month, and per company (NaN when not operating)."""
    n, t = pr.sx.shape
    sx, operating = pr.sx, pr.operating
    g = 0.002 - 0.006 * np.clip(np.nan_to_num(sx, nan=4.0) - 4.0, 0, None) + rng.normal(0, 0.012, size=(n, t))
    g = np.where(crisis[None, :] > 0, np.maximum(g, -0.004), g)
    cap = companies.effectif0.to_numpy()[:, None] * np.exp(np.cumsum(g, axis=1) - g[:, :1])
    ci = etabs.company.to_numpy()
    share = np.where(etabs.pseudo.to_numpy(), 0.05, etabs.share.to_numpy())
    eff = np.round(cap[ci] * share[:, None] * (1 + rng.normal(0, 0.03, size=(len(etabs), t))))
    eff = np.clip(eff, 0, None)
    eff[~operating[ci]] = np.nan
    ent_eff = np.zeros((n, t))
    np.add.at(ent_eff, ci, np.nan_to_num(eff))
    ent_eff[~operating] = np.nan
    return eff, ent_eff


def _cotisations(
    companies: pd.DataFrame, ci: npt.NDArray[np.int64], eff: npt.NDArray[np.float64], xs: npt.NDArray[np.float64],
    sev: npt.NDArray[np.float64], operating: npt.NDArray[np.bool_], crisis_start: int, rng: np.random.Generator,
) -> tuple[pd.DataFrame, npt.NDArray[np.int64], npt.NDArray[np.bool_]]:  # fmt: skip
    """Cotisations due and paid per establishment and month (centimes); the unpaid part and where it is a debt."""
    t = eff.shape[1]
    wage = companies.wage.to_numpy()[ci]
    due = np.nan_to_num(eff) * wage[:, None] * 0.42 * rng.lognormal(0, 0.04, size=eff.shape)
    due_c = np.round(due * 100).astype(np.int64)  # centimes
    crisis_bump = np.zeros(t)
    crisis_bump[crisis_start : crisis_start + 6] = 0.12
    p_debt = _sigmoid(-6.6 + 0.8 * xs) + crisis_bump[None, :] * sev[ci][:, None]
    has_debt = (rng.random(eff.shape) < p_debt) & (due_c > 0) & operating[ci]
    frac = rng.beta(1 + 0.4 * xs, 6 - 0.4 * xs)
    unpaid = np.where(has_debt, np.round(due_c * frac), 0).astype(np.int64)
    cotis = pd.DataFrame({"etab": np.nonzero(due_c > 0)[0], "m": np.nonzero(due_c > 0)[1]})
    cotis["due"] = due_c[cotis.etab, cotis.m]
    cotis["paid"] = cotis.due - unpaid[cotis.etab, cotis.m]
    cotis["quarterly"] = companies.effectif0.to_numpy()[ci[cotis.etab]] < 11
    cotis["avail_m"] = cotis.m + 1
    return cotis, unpaid, has_debt


def _truth(
    companies: pd.DataFrame, hidden: dict[str, npt.NDArray[np.int64]], oracle: npt.NDArray[np.float64],
    oracle_now: npt.NDArray[np.float64] | None, t_deliv: int,
) -> pd.DataFrame:  # fmt: skip
    """The ground truth: at-risk company-months of the delivered window."""
    state, fm = hidden["state"], hidden["failure_m"]
    f = companies.fragility.to_numpy()
    s = companies.section_idx.to_numpy()
    z = companies.size_class.to_numpy()
    ii, mm = np.nonzero(state[:, :t_deliv] >= 0)
    return pd.DataFrame(
        {
            "siren": companies.siren.to_numpy()[ii],
            "m": mm,
            "p_failure_18m": oracle[f[ii], s[ii], z[ii], mm, state[ii, mm]],
            "p_failure_18m_now": (oracle if oracle_now is None else oracle_now)[
                f[ii], s[ii], z[ii], mm, state[ii, mm]
            ],
            "failure_18m": ((fm[ii] >= mm) & (fm[ii] < mm + HORIZON)).astype(np.int8),
        }
    )


@dataclass
class _DebtLines:
    """The débits (one per establishment and month with an unpaid part), in (establishment, month) order."""

    e_idx: npt.NDArray[np.int64]
    m_idx: npt.NDArray[np.int64]
    amount: npt.NDArray[np.int64]
    x: npt.NDArray[np.float64]
    num_ecn: npt.NDArray[np.int64]
    months_to_pay: npt.NDArray[np.int64]
    delai: npt.NDArray[np.bool_]  # gets a payment plan
    duree: npt.NDArray[np.int64]  # the plan's length in days


def _debts(
    e_idx: npt.NDArray[np.int64],
    m_idx: npt.NDArray[np.int64],
    unpaid: npt.NDArray[np.int64],
    xs: npt.NDArray[np.float64],
    op_end: npt.NDArray[np.int64],
    fm: npt.NDArray[np.int64],
    crisis_start: int,
    world: World,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """URSSAF débits with their operation history, and the payment plans (délais) some of them get."""
    d = _debt_lines(e_idx, m_idx, unpaid, xs, crisis_start, rng)
    deb = _debt_history(d, op_end, fm, world.cal.n, rng)
    return deb, _delais(d, rng)


def _debt_lines(
    e_idx: npt.NDArray[np.int64], m_idx: npt.NDArray[np.int64], unpaid: npt.NDArray[np.int64],
    xs: npt.NDArray[np.float64], crisis_start: int, rng: np.random.Generator,
) -> _DebtLines:  # fmt: skip
    """The débits, their number within the establishment, when they are paid and which get a payment plan."""
    k = len(e_idx)
    amount = unpaid[e_idx, m_idx]
    x = xs[e_idx, m_idx]
    order = np.lexsort((m_idx, e_idx))
    e_idx, m_idx, amount, x = e_idx[order], m_idx[order], amount[order], x[order]
    first = np.r_[True, e_idx[1:] != e_idx[:-1]] if k else np.zeros(0, bool)
    grp_start = np.maximum.accumulate(np.where(first, np.arange(k), 0)) if k else np.zeros(0, np.int64)
    num_ecn = np.arange(k) - grp_start + 1
    crisis_debt = (m_idx >= crisis_start) & (m_idx < crisis_start + 6)
    p_pay = np.where(crisis_debt, 0.12, np.clip(0.75 - 0.08 * x, 0.05, 0.9))
    months_to_pay = 1 + rng.geometric(p_pay)
    # payment plans (délais) for sizeable debts of firms that can still pay
    delai = (amount > 200_000) & (x >= 3) & (x <= 7) & (rng.random(k) < 0.25)
    duree = rng.integers(90, 721, size=k)
    months_to_pay = np.where(delai, np.maximum(months_to_pay, duree // 30), months_to_pay)
    return _DebtLines(e_idx, m_idx, amount, x, num_ecn, months_to_pay, delai, duree)


def _debt_history(
    d: _DebtLines, op_end: npt.NDArray[np.int64], fm: npt.NDArray[np.int64], n_months: int,
    rng: np.random.Generator,
) -> pd.DataFrame:  # fmt: skip
    """Each débit's operations: mise en recouvrement, annulation, partial and full payments, admission en
    non-valeur, remise de majoration."""
    k, e_idx, m_idx, months_to_pay = len(d.e_idx), d.e_idx, d.m_idx, d.months_to_pay
    po = np.round(d.amount * 0.3).astype(np.int64)
    pp = d.amount - po
    cancelled = rng.random(k) < 0.03
    partial = (rng.random(k) < 0.4) & (months_to_pay >= 2)
    trt0 = m_idx + 1
    ops = []

    def add(mask: npt.NDArray[np.bool_], hist: int | npt.NDArray[np.int64], month: npt.NDArray[np.int64],
            po_: npt.NDArray[np.int64], pp_: npt.NDArray[np.int64], code: int) -> None:  # fmt: skip
        ops.append(pd.DataFrame({
            "debt": np.nonzero(mask)[0], "num_hist": np.broadcast_to(hist, k)[mask], "trt_m": month[mask],
            "po": po_[mask], "pp": pp_[mask], "cd_op": code,
        }))  # fmt: skip

    everything = np.ones(k, dtype=bool)
    add(everything, 1, trt0, po, pp, 1)  # mise en recouvrement
    add(cancelled, 2, trt0 + 1, po * 0, pp * 0, 11)  # annulation of the mise en recouvrement
    live = ~cancelled
    keep = rng.uniform(0.3, 0.7, size=k)
    half = trt0 + np.maximum(months_to_pay // 2, 1)
    alive_at_half = half < op_end[e_idx]
    add(live & partial & alive_at_half, 2, half, np.round(po * keep).astype(np.int64),
        np.round(pp * keep).astype(np.int64), 2)  # fmt: skip
    hist_final = np.where(partial & alive_at_half, 3, 2)
    pay_m = trt0 + months_to_pay
    paid_off = live & (pay_m < op_end[e_idx])
    add(paid_off, hist_final, pay_m, po * 0, pp * 0, 2)
    # firms that stopped: the debt is written off (admission en non-valeur) six months after the end
    anv = live & ~paid_off & (op_end[e_idx] < n_months)
    add(anv, hist_final, op_end[e_idx] + 6, po * 0, pp * 0, 3)
    # a remise de majoration now and then (does not change the parts, penalties are excluded)
    rem = live & (rng.random(k) < 0.05)
    add(rem, np.full(k, 9), trt0 + 1, po, pp, 4)
    return _number_history(pd.concat(ops, ignore_index=True), d, fm, rng)


def _number_history(
    deb: pd.DataFrame, d: _DebtLines, fm: npt.NDArray[np.int64], rng: np.random.Generator
) -> pd.DataFrame:
    """The operations' keys, history numbers (in processing order), day, procol flag, motif and recours."""
    e_idx = d.e_idx
    deb["etab"] = e_idx[deb.debt]
    deb["period_m"] = d.m_idx[deb.debt]
    deb["num_ecn"] = d.num_ecn[deb.debt]
    # a remise is history number 2 (its own position); renumber the history per debt in processing order
    deb = deb.sort_values(["debt", "trt_m", "num_hist"], kind="stable")
    deb["num_hist"] = deb.groupby("debt").cumcount() + 1
    deb["day"] = np.clip(np.round(rng.normal(19, 5, size=len(deb))), 1, 28).astype(np.int64)
    deb["avail_m"] = deb.trt_m
    deb["in_procol"] = (fm[e_idx[deb.debt]] >= 0) & (fm[e_idx[deb.debt]] <= deb.trt_m)
    deb["motif"] = rng.choice(
        np.array([0, 1, 2, 4, 7, 10]), size=len(deb), p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05]
    )
    deb["recours"] = (rng.random(len(deb)) < 0.02).astype(np.int8)
    return deb.reset_index(drop=True)


def _delais(d: _DebtLines, rng: np.random.Generator) -> pd.DataFrame:
    """The payment plans (délais) of the débits that get one."""
    di = np.nonzero(d.delai)[0]
    creation_day = rng.integers(5, 40, size=len(di))
    dl = pd.DataFrame({
        "etab": d.e_idx[di], "trt_m": d.m_idx[di] + 1, "offset_days": creation_day, "duree": d.duree[di],
        "montant": d.amount[di], "numero": rng.integers(10**12, 10**13 - 1, size=len(di)),
    })  # fmt: skip
    dl["avail_m"] = dl.trt_m + (dl.offset_days >= 28).astype(np.int64)
    return dl


def _ccsf(
    companies: pd.DataFrame, sx: npt.NDArray[np.float64], has_debt: npt.NDArray[np.bool_],
    ci: npt.NDArray[np.int64], rng: np.random.Generator,
) -> pd.DataFrame:  # fmt: skip
    n, t = sx.shape
    debt_c = np.zeros((n, t), dtype=bool)
    np.logical_or.at(debt_c, ci, has_debt)
    start = debt_c & (np.nan_to_num(sx) >= 5) & (rng.random((n, t)) < 0.006)
    rows = []
    for i, m in zip(*np.nonzero(start), strict=True):
        rows.append((i, m, "DEBUT"))
        decision = m + int(rng.integers(1, 4))
        if rng.random() < 0.7:
            rows.append((i, decision, "APPROB"))
            rows.append((i, decision + int(rng.integers(6, 25)), "FIN" if rng.random() < 0.8 else "REJ"))
        else:
            rows.append((i, decision, "REFUS"))
    df = pd.DataFrame(rows, columns=["company", "m", "stade"])
    df["day"] = rng.integers(1, 29, size=len(df))
    df["avail_m"] = df.m
    return df


def _procol(
    companies: pd.DataFrame, etabs: pd.DataFrame, fm: npt.NDArray[np.int64], kind: npt.NDArray[np.str_],
    resol: npt.NDArray[np.int64], plan: npt.NDArray[np.bool_], rng: np.random.Generator,
) -> pd.DataFrame:  # fmt: skip
    rows = []
    for i in np.nonzero(fm >= 0)[0]:
        k, m0, r = str(kind[i]), int(fm[i]), int(resol[i])
        rows.append((i, m0, f"Ouverture_{k}"))
        if k == "liquidation":
            rows.append((i, m0 + int(rng.integers(12, 37)), "Fin_procedure_liquidation"))
        elif plan[i]:
            rows.append((i, r, f"Plan_continuation_{k}"))
        else:
            rows.append((i, r, f"Inclusion_autre_procedure_{k}"))
            rows.append((i, r, "Ouverture_liquidation"))
            rows.append((i, r + int(rng.integers(12, 37)), "Fin_procedure_liquidation"))
    df = pd.DataFrame(rows, columns=["company", "m", "label"])
    df["day"] = rng.integers(1, 29, size=len(df))
    df["avail_m"] = df.m + 1
    return df


def _ap(
    etabs: pd.DataFrame, eff: npt.NDArray[np.float64], sx: npt.NDArray[np.float64], sev: npt.NDArray[np.float64],
    operating: npt.NDArray[np.bool_], crisis_start: int, t_deliv: int, rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Activité partielle: requests (distressed firms, and most firms at the crisis) and monthly consumption."""
    ne, t = eff.shape
    x = np.nan_to_num(sx, nan=0.0)
    p = 0.001 + 0.012 * np.clip(x - 4, 0, None)
    wave = np.zeros((ne, t))
    if crisis_start < t:
        wave[:, crisis_start] = np.clip(0.5 * sev / 1.7 + 0.1, 0, 0.85)
    if crisis_start + 8 < t:
        wave[:, crisis_start + 8] = 0.15 * sev
    ask = (rng.random((ne, t)) < p + wave) & operating & (np.nan_to_num(eff) >= 1)
    e_i, m_i = np.nonzero(ask)
    k = len(e_i)
    dur = np.where(wave[e_i, m_i] > 0, rng.integers(3, 7, size=k), rng.integers(2, 13, size=k))
    eff_auto = np.maximum(1, np.ceil(eff[e_i, m_i] * rng.uniform(0.3, 1.0, size=k)))
    intensity = rng.uniform(0.2, 0.6, size=k)
    hta = np.round(eff_auto * 151.67 * dur * intensity, 2)
    dem = pd.DataFrame({
        "etab": e_i, "m": m_i, "dur": dur, "eff_auto": eff_auto, "hta": hta, "mta": np.round(hta * 8.04, 2),
        "start_day": rng.integers(1, 28, size=k), "statut_offset": rng.integers(-20, 15, size=k),
        "motif": np.where(wave[e_i, m_i] > 0, 5, rng.choice(np.array([1, 1, 1, 2, 3, 4]), size=k)),
        "perimetre": rng.integers(1, 5, size=k), "recours": rng.integers(1, 4, size=k),
        "eff_ent": eff[e_i, m_i],
    })  # fmt: skip
    dem["id"] = [f"{chr(97 + int(a))}{int(b):09d}" for a, b in zip(rng.integers(0, 26, k), rng.integers(0, 10**9, k), strict=True)]  # fmt: skip
    dem["avail_m"] = np.maximum(dem.m + np.where(dem.statut_offset > 0, 0, -1), 0)
    # consumption: one row per month of the request the firm actually used
    rep = np.repeat(np.arange(k), dur)
    month = m_i[rep] + (np.arange(len(rep)) - np.repeat(np.cumsum(dur) - dur, dur))
    used = (rng.random(len(rep)) < 0.8) & (month < t) & operating[e_i[rep], np.minimum(month, t - 1)]
    heures = np.round(hta[rep] / dur[rep] * rng.uniform(0.3, 1.0, size=len(rep)), 2)
    con = pd.DataFrame({
        "req": rep, "etab": e_i[rep], "m": month, "heures": heures, "montant": np.round(heures * 8.04, 2),
        "effectifs": np.round(eff_auto[rep] * rng.uniform(0.5, 1.0, size=len(rep))),
    })[used]  # fmt: skip
    con["id"] = dem.id.to_numpy()[con.req]
    con["avail_m"] = con.m + 1
    return dem, con.reset_index(drop=True)


def _bilans(
    companies: pd.DataFrame, sx: npt.NDArray[np.float64], ent_eff: npt.NDArray[np.float64], world: World,
    rng: np.random.Generator,
) -> pd.DataFrame:  # fmt: skip
    """Annual accounts (one row per company and fiscal year), published 5 to 10 months after closing."""
    cal = world.cal
    n, t = sx.shape
    eff0 = companies.effectif0.to_numpy()
    diane = rng.random(n) < np.where(eff0 >= 10, 0.6, 0.2)
    bdf = rng.random(n) < np.where(eff0 >= 20, 0.35, 0.05)
    close_month = rng.choice(np.array([12, 12, 12, 12, 12, 12, 12, 3, 6, 9]), size=n)
    prod = rng.lognormal(np.log(120.0), 0.4, size=n)  # k€ of turnover per employee
    start_year = cal.start.year - 2
    known = ~np.isnan(sx)
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(np.nan_to_num(sx), axis=1)], axis=1)
    ccount = np.concatenate([np.zeros((n, 1)), np.cumsum(known, axis=1)], axis=1)
    rows = []
    for year in range(start_year, cal.months[-1].year + 1):
        close = np.array([pd.Period(f"{year}-{cm:02d}", "M") for cm in close_month])
        cm_idx = np.array([(c - cal.start).n for c in close])
        lo = np.clip(cm_idx - 11, 0, t - 1)
        hi = np.clip(cm_idx, 0, t - 1)
        valid = (cm_idx >= -24) & (cm_idx < t) & (diane | bdf)
        # operating at closing (or before the window: assume so for firms created before)
        op = np.where(
            cm_idx >= 0, ~np.isnan(sx[np.arange(n), hi]), companies.created_m.to_numpy() < cm_idx - 12
        )
        valid &= op
        if not valid.any():
            continue
        rows_i = np.arange(n)
        total = csum[rows_i, hi + 1] - csum[rows_i, lo]
        count = ccount[rows_i, hi + 1] - ccount[rows_i, lo]
        xa = np.where(count > 0, total / np.maximum(count, 1), np.nan)  # mean state over the fiscal year
        xa = np.where(np.isnan(xa), np.nan_to_num(sx[:, 0], nan=3.0), xa)
        at_close = ent_eff[np.arange(n), hi]
        eff = np.where((cm_idx >= 0) & ~np.isnan(at_close), at_close, eff0)
        noise = rng.normal(0, 1, size=(n, 8))
        ca = eff * prod * np.exp(0.1 * noise[:, 0]) * (1 - 0.04 * (xa - 3))
        ebe_rate = 0.09 - 0.022 * (xa - 2.5) + 0.025 * noise[:, 1]
        va = ca * np.clip(0.35 + 0.05 * noise[:, 2], 0.1, 0.8)
        ebe = ca * ebe_rate
        rows.append(pd.DataFrame({
            "company": np.arange(n), "year": year, "close_m": cm_idx, "close_month": close_month,
            "publish_m": cm_idx + rng.integers(5, 11, size=n), "diane": diane, "bdf": bdf,
            "effectif": np.round(eff), "ca": ca, "va": va, "ebe": ebe, "personnel": va - ebe - 0.03 * va,
            "resultat_expl": ebe - 0.03 * ca, "capitaux_propres": ca * (0.3 - 0.05 * xa + 0.05 * noise[:, 3]),
            "dettes_fin": ca * np.clip(0.2 + 0.03 * xa + 0.05 * noise[:, 4], 0.0, None),
            "liquidite": np.clip(1.6 - 0.1 * xa + 0.15 * noise[:, 5], 0.05, None),
            "delai_frs": np.clip(45 + 6 * xa + 10 * noise[:, 6], 0, None),
            "delai_clients": np.clip(50 + 12 * noise[:, 7], 0, None),
            "dettes_fisc_soc": ca * np.clip(0.08 + 0.02 * xa + 0.02 * noise[:, 2], 0.0, None),
            "frais_fin": ca * np.clip(0.005 + 0.003 * xa + 0.002 * noise[:, 4], 0, None),
        })[valid])  # fmt: skip
    if not rows:
        return pd.DataFrame()
    b = pd.concat(rows, ignore_index=True)
    b["avail_m"] = b.publish_m
    return b


def _paydex(
    companies: pd.DataFrame,
    sx: npt.NDArray[np.float64],
    crisis: npt.NDArray[np.float64],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Altares payment behaviour: the paydex (days late) of about 90 % of the companies, and for about 60 % of
    those the FPI scores (out of 100, the risk of a payment over 30 / 90 days late; NaN when not scored), both
    following the observed state; known the month after (``avail_m = m + 1``)."""
    n = sx.shape[0]
    covered = np.asarray(rng.random(n) < 0.9)
    ok = ~np.isnan(sx) & covered[:, None]
    i, m = np.nonzero(ok)
    days = np.round(rng.normal(2 + 5 * sx[i, m] + 5 * crisis[m], 3.5)).clip(0, 365)
    # drawn after the paydex so that adding the FPI left every earlier value unchanged
    scored = np.asarray(rng.random(n) < 0.6)[i]
    level = np.asarray(rng.normal(0.0, 0.5, n))[i]  # the company's own level, persistent
    logit = -3.0 + 0.55 * sx[i, m] + 0.8 * crisis[m] + level + rng.normal(0.0, 0.35, len(i))
    fpi_30 = np.round(100 * _sigmoid(logit))
    fpi_90 = np.round(100 * _sigmoid(logit - 1.4 + rng.normal(0.0, 0.25, len(i))))
    return pd.DataFrame({
        "company": i, "m": m, "days": days.astype(np.int64), "avail_m": m + 1,
        "fpi_30": np.where(scored, fpi_30, np.nan), "fpi_90": np.where(scored, np.minimum(fpi_90, fpi_30), np.nan),
    })  # fmt: skip


__all__ = ["NEVER", "ChunkSignals", "observe"]
