"""Benchmark the platform's web pages under load: 50 agents browsing a 100 000-company database (SQLite, PostgreSQL).

    uv run python benchmarks/web.py [--companies 100000] [--seconds 60] [--sessions 50] [--db sqlite|postgresql|both]
                                    [--workers 1] [--workers 2] [--think 1.0] [--warmup 5] [--no-analyze]
                                    [--pg postgresql+psycopg://postgres@127.0.0.1:5432] [--work /tmp/sf-bench-web]

1. **Database**: the platform schema (Alembic), then rows written directly with SQLAlchemy Core bulk inserts:
   ``companies`` (``--companies``, spread over 44 départements of 6 régions, all open), ``establishments`` (1–3 per
   company: the head office in the company's département, the others in its région or another one),
   ``company_months`` (12 months each), one list (``lists`` id 1) and its ``scores`` (one row per company, ≈ 1.5 %
   "Alerte seuil F1" and 3.5 % "F2"), ``users`` (``--sessions`` agents of URSSAF, every data right, a territory of 1–3
   départements of one région, the notice accepted, 5 followed companies each) and one ``web_sessions`` row per agent
   (stage ``ok``) whose token the client sends as the ``sf_session`` cookie: no argon2 login in the measure.
   SQLite: a file under ``--work``; PostgreSQL: a throwaway database on ``--pg``, dropped at the end. Then ``ANALYZE``,
   as ``signaux-faibles publish`` does after each publication (``--no-analyze`` to see the planner without it).
2. **Server**: a real ``signaux-faibles serve`` (uvicorn, ``--workers`` processes; ``--workers`` may be repeated to
   compare), in its own process group, stopped at the end; its peak RSS (all its processes) is sampled from /proc.
3. **Load**: ``--sessions`` concurrent sessions (one ``httpx.AsyncClient`` each, in this process) for ``--seconds``
   after ``--warmup`` seconds not counted; each loops: pick a request, wait for the answer, think
   ``--think`` seconds on average (uniform in [0.5, 1.5] × think; 0 = closed loop, a stress test). The mix: 40 % list
   page ``/listes/1`` (variants: page 1, another page, ``alerte=F1``, one of the agent's départements,
   ``tri=probabilite``, ``q=`` a name prefix), 40 % company page ``/entreprises/{siren}`` (a company of the agent's
   territory, alerted half the time), 10 % ``/listes`` (the lists overview) and 10 % ``/sante``.
4. **Baselines, same run**: ``/sante`` under the same load (no data, no session: the cost of HTTP, uvicorn and the
   event loop at this load), and the list page's query alone (``services.list_rows`` in this process, no HTTP, no
   template, no audit; measured unloaded before the load), as ratios.

Any answer other than 200 (a redirect to ``/connexion`` included) or a transport error counts as an error; the
latencies are those of the successful answers (``n``), the errors are counted apart. Goals:
p95 < 100 ms (list page), < 150 ms (company page), no error.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Régions (INSEE) and their départements: the companies' geography (every one opened on the platform).
REGIONS = {
    "27": ("21", "25", "39", "58", "70", "71", "89", "90"),
    "11": ("75", "77", "78", "91", "92", "93", "94", "95"),
    "84": ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    "93": ("04", "05", "06", "13", "83", "84"),
    "53": ("22", "29", "35", "56"),
    "44": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),
}
REGION_OF = {d: r for r, ds in REGIONS.items() for d in ds}
DEPTS = tuple(REGION_OF)
NAF = (("C", "25.62B", "Mécanique industrielle"), ("F", "43.21A", "Travaux d'installation électrique"),
       ("G", "47.11D", "Supermarchés"), ("H", "49.41A", "Transports routiers de fret"),
       ("I", "56.10A", "Restauration traditionnelle"), ("M", "70.22Z", "Conseil pour les affaires"),
       ("N", "81.21Z", "Nettoyage courant des bâtiments"), ("Q", "88.10A", "Aide à domicile"))  # fmt: skip
WORDS = ("ATELIER", "BATIMENT", "COMMERCE", "CONSEIL", "DISTRIBUTION", "INDUSTRIE", "SERVICES", "TRANSPORTS")
MONTHS = [dt.date(2025 + (m // 12), m % 12 + 1, 1) for m in range(9, 21)]  # 2025-10 … 2026-09
LIST_MONTH = MONTHS[-1]
ALERT_F1, ALERT_F2, NO_ALERT = "Alerte seuil F1", "Alerte seuil F2", "Pas d'alerte"
CHUNK = 20_000
GOALS_MS = {"list": 100.0, "company": 150.0}
KINDS = ("list", "company", "lists", "sante")


# --------------------------------------------------------------------------------------------------- database


@dataclass
class Agent:
    user_id: int
    email: str
    token: str
    departements: tuple[str, ...]
    alerted: list[str] = field(default_factory=list)  # alerted companies of the territory (siège inside)
    quiet: list[str] = field(default_factory=list)  # the others


def _siren(i: int) -> str:
    return f"{300_000_000 + i:09d}"


def build_database(url: str, companies: int, agents_n: int, seed: int = 7) -> list[Agent]:
    """The platform schema and its rows (Core bulk inserts); returns the agents with their session tokens."""
    from sqlalchemy import insert, select

    from signaux_faibles.platform.models import (
        Company,
        CompanyMonth,
        Establishment,
        Follow,
        List,
        OpenRegion,
        Organisation,
        Score,
        User,
        WebSession,
    )
    from signaux_faibles.platform.store import db as platform_db

    rng = random.Random(seed)
    t0 = time.perf_counter()
    engine = platform_db.get_engine(url)
    platform_db.upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    dept_of: list[str] = []
    n_etab = n_month = 0

    def chunks(rows: list[dict[str, Any]], table: Any, conn: Any) -> None:
        for k in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[k : k + CHUNK])

    with engine.begin() as conn:
        platform_db.lock(conn)
        conn.execute(
            insert(OpenRegion), [{"code": r, "opened_at": now, "opened_by": "bench"} for r in REGIONS]
        )
        conn.execute(insert(List), [{"id": 1, "batch": "2609", "algo": "bench", "label": "Septembre 2026",
                                     "periode": LIST_MONTH, "published_at": now, "threshold_high": 0.3,
                                     "threshold_moderate": 0.1}])  # fmt: skip
        step = 10_000
        for lo in range(0, companies, step):
            comps, etabs, months = [], [], []
            for i in range(lo, min(lo + step, companies)):
                siren = _siren(i)
                d = rng.choice(DEPTS)
                r = REGION_OF[d]
                dept_of.append(d)
                sec, ape, label = rng.choice(NAF)
                siege = f"{siren}00011"
                comps.append({"siren": siren, "raison_sociale": f"{rng.choice(WORDS)} {i:06d}", "categorie_juridique": "5499",
                              "activite_principale": ape, "libelle_activite_principale": label, "naf_section": sec,
                              "siret_siege": siege, "departement": d, "region": r,
                              "creation": dt.date(1980 + i % 40, i % 12 + 1, 1), "est_actif": True,
                              "snapshot_batch": "2609"})  # fmt: skip
                for k in range(rng.choice((1, 1, 2, 3))):
                    if k == 0:
                        ed = d
                    elif rng.random() < 0.7:
                        ed = rng.choice(REGIONS[r])
                    else:
                        ed = rng.choice(DEPTS)
                    etabs.append({"siret": siege if k == 0 else f"{siren}{k + 1:03d}29", "siren": siren,
                                  "siege": k == 0, "adresse": f"{k + 1} rue de la Paix", "departement": ed,
                                  "region": REGION_OF[ed], "ape": ape, "est_actif": True,
                                  "snapshot_batch": "2609"})  # fmt: skip
                eff = rng.randint(1, 200)
                for m, periode in enumerate(MONTHS):
                    months.append({"siren": siren, "periode": periode, "cotisation": 100.0 * eff + m,
                                   "montant_part_ouvriere": rng.random() * 1000 if rng.random() < 0.2 else 0.0,
                                   "montant_part_patronale": rng.random() * 3000 if rng.random() < 0.2 else 0.0,
                                   "effectif": eff, "effectif_ent": eff + rng.randint(0, 20),
                                   "apart_heures_autorisees": 10.0 if rng.random() < 0.05 else None})  # fmt: skip
            chunks(comps, Company, conn)
            chunks(etabs, Establishment, conn)
            chunks(months, CompanyMonth, conn)
            n_etab += len(etabs)
            n_month += len(months)
        probs = sorted(((rng.betavariate(0.6, 9), i) for i in range(companies)), reverse=True)
        n_f1, n_f2 = round(companies * 0.015), round(companies * 0.035)
        alert_of: dict[int, str] = {}
        scores = []
        for rank, (p, i) in enumerate(probs, start=1):
            alert = ALERT_F1 if rank <= n_f1 else ALERT_F2 if rank <= n_f1 + n_f2 else NO_ALERT
            alert_of[i] = alert
            alerted = alert != NO_ALERT
            scores.append({"list_id": 1, "siren": _siren(i), "siret": f"{_siren(i)}00011", "algo": "bench",
                           "rank": rank, "probability": p, "alert": alert, "alert_pre_adjustment": alert,
                           "adjustments": [], "base_probability": 0.05,
                           "macro_expl": {"dette URSSAF": p / 2, "emploi": -0.01} if alerted else None,
                           "micro_expl": None, "what_if": None, "first_alert": alerted and rng.random() < 0.5,
                           "first_high_alert": alert == ALERT_F1, "hausse_urssaf": rng.random() < 0.1,
                           "ap_12m": rng.random() < 0.05, "etat_proc_collective": None,
                           "dette_urssaf": rng.random() * 1e5 if rng.random() < 0.2 else None})  # fmt: skip
        chunks(scores, Score, conn)
        org = conn.execute(select(Organisation.id).where(Organisation.name == "URSSAF")).scalar_one()
        by_dept: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(dept_of):
            by_dept[d].append(i)
        agents, users, sessions, follows = [], [], [], []
        for a in range(1, agents_n + 1):
            region = rng.choice(list(REGIONS))
            depts = tuple(sorted(rng.sample(REGIONS[region], rng.randint(1, min(3, len(REGIONS[region]))))))
            token = secrets.token_urlsafe(32)
            agent = Agent(a, f"agent{a:03d}@urssaf.fr", token, depts)
            for d in depts:
                for i in by_dept[d]:
                    (agent.alerted if alert_of[i] != NO_ALERT else agent.quiet).append(_siren(i))
            agents.append(agent)
            users.append({"id": a, "email": agent.email, "name": f"Agent {a}", "organisation_id": org,
                          "territory": ",".join(depts), "rights": "score,urssaf,dgefp,bdf", "role": "agent",
                          "active": True, "created_at": now, "last_login_at": now, "notice_accepted_at": now,
                          "reviewed_at": now, "failed_logins": 0})  # fmt: skip
            sessions.append({"id": a, "token_hash": hashlib.sha256(token.encode()).hexdigest(), "user_id": a,
                             "stage": "ok", "method": "password", "csrf_token": secrets.token_urlsafe(32),
                             "created_at": now, "last_seen_at": now, "ip": "127.0.0.1",
                             "user_agent": "benchmarks/web.py"})  # fmt: skip
            for k, siren in enumerate(rng.sample(agent.quiet + agent.alerted, 5)):
                follows.append({"id": (a - 1) * 5 + k + 1, "user_id": a, "siren": siren, "category": "Veille",
                                "active": True, "since": now})  # fmt: skip
        conn.execute(insert(User), users)
        conn.execute(insert(WebSession), sessions)
        conn.execute(insert(Follow), follows)
    engine.dispose()
    print(f"  database: {companies:,} companies, {n_etab:,} establishments, {n_month:,} company months, "
          f"{companies:,} scores ({n_f1 + n_f2:,} alerted), {agents_n} agents in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
    return agents


def analyze(url: str) -> None:
    from sqlalchemy import text

    from signaux_faibles.platform.store import db as platform_db

    engine = platform_db.get_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def raw_list_baseline(url: str, agents: list[Agent], repeat: int = 40) -> list[float]:
    """The list page's query alone (``services.list_rows``, page 1), in this process, unloaded: seconds."""
    from signaux_faibles.platform.accounts import actor_of
    from signaux_faibles.platform.models import List, User
    from signaux_faibles.platform.services.list_rows import list_rows
    from signaux_faibles.platform.store import db as platform_db

    engine = platform_db.get_engine(url)
    factory = platform_db.sessions(engine)
    out = []
    for k in range(repeat):
        agent = agents[k % len(agents)]
        with factory() as db:
            user = db.get(User, agent.user_id)
            assert user is not None
            actor = actor_of(db, user)
            t0 = time.perf_counter()
            li = db.get(List, 1)
            assert li is not None
            rows = list_rows(db, actor, li)
            out.append(time.perf_counter() - t0)
            # the alerted companies whose head office is inside, plus those with another establishment inside
            assert rows["total"] >= len(agent.alerted)
    engine.dispose()
    return out[3:]  # without the first (cold) runs


# ------------------------------------------------------------------------------------------------------ server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _tree_rss(pid: int) -> int:
    """RSS (bytes) of ``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            children[int(parts[1])].append(int(d))
            rss[int(d)] = int(parts[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


class Server:
    """``signaux-faibles serve`` on a free port, in its own process group; peak RSS sampled every 0.2 s."""

    def __init__(self, url: str, work: Path, workers: int) -> None:
        self.port = _free_port()
        assert not _port_in_use(self.port)
        self.base = f"http://127.0.0.1:{self.port}"
        env = os.environ.copy()
        env.update({"SF_DATA_DIR": str(work / "data"), "SF_DATABASE_URL": url, "SF_SECRET_KEY": "bench-secret-key",
                    "SF_CONFIG": str(work / "absent.toml")})  # fmt: skip
        env.pop("SF_PRODUCTION", None)
        exe = Path(sys.executable).parent / "signaux-faibles"
        self.log_path = work / f"server-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen([str(exe), "serve", "--port", str(self.port), "--workers", str(workers)], env=env,
                                     cwd=work, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.peak_rss = 0
        self._stop = threading.Event()
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(self.base + "/sante", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the server did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.2)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_rss = max(self.peak_rss, _tree_rss(self.proc.pid))

    def stop(self) -> None:
        self._stop.set()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()
        for _ in range(50):
            if not _port_in_use(self.port):
                break
            time.sleep(0.1)
        else:
            print(f"  warning: port {self.port} still answers after the server stopped", flush=True)


# -------------------------------------------------------------------------------------------------------- load


@dataclass
class Record:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)


def _pick(rng: random.Random, agent: Agent) -> tuple[str, str]:
    """(kind/variant, URL) of the next request of ``agent``."""
    x = rng.random()
    if x < 0.4:
        pages = max(1, -(-len(agent.alerted) // 20))
        variant = rng.choice(("page1", "page", "f1", "dept", "tri", "q"))
        query = {
            "page1": "",
            "page": f"?page={rng.randint(1, pages)}",
            "f1": "?alerte=F1",
            "dept": f"?departement={rng.choice(agent.departements)}",
            "tri": "?tri=probabilite&ordre=desc",
            "q": f"?q={rng.choice(WORDS)[:4]}",
        }[variant]
        return f"list:{variant}", f"/listes/1{query}"
    if x < 0.8:
        pool = agent.alerted if (rng.random() < 0.5 and agent.alerted) else agent.quiet or agent.alerted
        variant = "alerted" if pool is agent.alerted else "quiet"
        return f"company:{variant}", f"/entreprises/{rng.choice(pool)}"
    if x < 0.9:
        return "lists:", "/listes"
    return "sante:", "/sante"


async def _session(agent: Agent, base: str, start: float, end: float, think: float, rec: Record | None,
                   seed: int) -> None:  # fmt: skip
    import httpx

    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, cookies={"sf_session": agent.token}, timeout=60.0,
                                 follow_redirects=False) as client:  # fmt: skip
        await asyncio.sleep(rng.random() * min(1.0, think or 0.2))
        while (now := time.monotonic()) < end:
            kind, url = _pick(rng, agent)
            t0 = time.perf_counter()
            try:
                r = await client.get(url)
                ok, what = r.status_code == 200, f"{r.status_code} {r.headers.get('location', '')}"
            except httpx.HTTPError as e:
                ok, what = False, f"{type(e).__name__}: {e}"
            elapsed = time.perf_counter() - t0
            if rec is not None and now >= start:
                if ok:  # the latencies are those of the answers given (an error is often fast)
                    rec.latencies[kind].append(elapsed)
                    rec.slowest.append((elapsed, url))
                    if len(rec.slowest) > 200:
                        rec.slowest = sorted(rec.slowest, reverse=True)[:20]
                else:
                    rec.latencies.setdefault(kind, [])
                    rec.errors[kind] += 1
                    if len(rec.error_samples) < 10:
                        rec.error_samples.append(f"{url}: {what}")
            if think:
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def _load(
    agents: list[Agent], base: str, seconds: float, warmup: float, think: float, rec: Record
) -> None:
    t = time.monotonic()
    await asyncio.gather(*(_session(a, base, t + warmup, t + warmup + seconds, think, rec, k)
                           for k, a in enumerate(agents)))  # fmt: skip


def unloaded(base: str, agent: Agent, repeat: int = 15) -> dict[str, float]:
    """Median latency of each kind, one request at a time (no other load): the service time, in seconds."""
    import httpx

    urls = {"list": "/listes/1", "company": f"/entreprises/{(agent.alerted or agent.quiet)[0]}", "lists": "/listes",
            "sante": "/sante"}  # fmt: skip
    out = {}
    with httpx.Client(base_url=base, cookies={"sf_session": agent.token}, timeout=60.0) as client:
        for kind, url in urls.items():
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                r = client.get(url)
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200, f"{url}: {r.status_code}"
            out[kind] = statistics.median(times[2:])
    return out


def _q(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))]


def report(
    title: str, rec: Record, seconds: float, raw: list[float], peak_rss: int, alone: dict[str, float]
) -> dict[str, Any]:
    """Print the figures per kind (and per variant) and return them."""
    kinds: dict[str, list[float]] = defaultdict(list)
    errs: dict[str, int] = defaultdict(int)
    for key, xs in rec.latencies.items():
        kinds[key.split(":")[0]].extend(xs)
    for key, n in rec.errors.items():
        errs[key.split(":")[0]] += n
    sante = kinds.get("sante") or [float("nan")]
    s50, s95 = _q(sante, 0.5), _q(sante, 0.95)
    raw50 = statistics.median(raw) if raw else float("nan")
    print(f"\n== {title}: {(sum(len(v) for v in kinds.values()) + sum(errs.values())) / seconds:.0f} requests/s, "
          f"server peak RSS {peak_rss / 2**20:.0f} MiB", flush=True)  # fmt: skip
    print(f"  {'kind':<18}{'n ok':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}"
          f"{'p50/sante':>11}{'p95/sante':>11}{'alone ms':>10}  goal p95")  # fmt: skip
    out: dict[str, Any] = {
        "rps": (sum(len(v) for v in kinds.values()) + sum(errs.values())) / seconds,
        "peak_rss_mib": peak_rss / 2**20,
    }

    def line(name: str, xs: list[float], n_err: int) -> dict[str, float]:
        p50, p95, p99 = _q(xs, 0.5), _q(xs, 0.95), _q(xs, 0.99)
        goal = GOALS_MS.get(name)
        verdict = (
            "" if goal is None else ("ok" if p95 * 1000 < goal and n_err == 0 else f"MISSED (< {goal:.0f})")
        )
        print(f"  {name:<18}{len(xs):>7}{p50 * 1000:>9.1f}{p95 * 1000:>9.1f}{p99 * 1000:>9.1f}"
              f"{max(xs, default=float('nan')) * 1000:>9.1f}{n_err:>8}{p50 / s50:>11.1f}{p95 / s95:>11.1f}"
              f"{alone.get(name, float('nan')) * 1000:>10.1f}  {verdict}")  # fmt: skip
        return {"n": len(xs), "p50": p50, "p95": p95, "p99": p99, "errors": n_err}

    for k in KINDS:
        if k in kinds:
            out[k] = line(k, kinds[k], errs.get(k, 0))
    for key in sorted(rec.latencies):
        if key.split(":")[1]:
            out[key] = line("  " + key, rec.latencies[key], rec.errors.get(key, 0))
    print(f"  baseline: /sante under the same load p50 {s50 * 1000:.1f} ms, p95 {s95 * 1000:.1f} ms; list query "
          f"alone (list_rows, in-process, unloaded) p50 {raw50 * 1000:.1f} ms → list page p50 / query p50 = "
          f"{_q(kinds.get('list', []), 0.5) / raw50:.1f}", flush=True)  # fmt: skip
    slow = sorted(rec.slowest, reverse=True)[:5]
    print("  slowest: " + ", ".join(f"{u} {t * 1000:.0f} ms" for t, u in slow))
    for e in rec.error_samples:
        print(f"  error: {e}")
    print("  alone ms: the median of the same page requested one at a time, no other load (service time)")
    out["baseline"] = {"sante_p50": s50, "sante_p95": s95, "list_query_p50": raw50, "alone": alone}
    return out


def run_db(name: str, url: str, args: argparse.Namespace, work: Path) -> None:
    print(f"\n# {name}: {url}", flush=True)
    agents = build_database(url, args.companies, args.sessions)
    if not args.no_analyze:
        analyze(url)
        print("  ANALYZE done", flush=True)
    raw = raw_list_baseline(url, agents)
    for workers in args.workers or [1]:
        server = Server(url, work, workers)
        rec = Record()
        try:
            alone = unloaded(server.base, agents[0])
            asyncio.run(_load(agents, server.base, args.seconds, args.warmup, args.think, rec))
        finally:
            server.stop()
        report(f"{name}, {workers} worker(s), {args.sessions} sessions, think {args.think} s, {args.seconds:.0f} s",
               rec, args.seconds, raw, server.peak_rss, alone)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--companies", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument(
        "--think", type=float, default=1.0, help="mean think time between requests (0: closed loop)"
    )
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument(
        "--workers", type=int, action="append", help="uvicorn workers (repeat to compare; default 1)"
    )
    ap.add_argument(
        "--no-analyze",
        action="store_true",
        help="skip the ANALYZE after loading (publish runs one: this shows the planner without statistics)",
    )
    ap.add_argument(
        "--pg", default=os.environ.get("SF_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
    )
    ap.add_argument("--work", type=Path, default=Path("/tmp/sf-bench-web"))
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(f"benchmarks/web.py: {args.companies:,} companies, {args.sessions} sessions, {args.seconds:.0f} s "
          f"(+{args.warmup:.0f} s warm-up), think {args.think} s, workers {args.workers or [1]}", flush=True)  # fmt: skip
    if args.db in ("sqlite", "both"):
        db_file = work / f"platform-{args.companies}.db"
        for p in work.glob(f"platform-{args.companies}.db*"):
            p.unlink()
        run_db("SQLite", f"sqlite:///{db_file}", args, work)
    if args.db in ("postgresql", "both"):
        from sqlalchemy import create_engine, text

        admin = create_engine(f"{args.pg}/postgres", isolation_level="AUTOCOMMIT")
        name = f"sf_bench_web_{uuid.uuid4().hex[:10]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run_db("PostgreSQL", f"{args.pg}/{name}", args, work)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
