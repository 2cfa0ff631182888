"""The model card: one self-contained HTML file (plots embedded as PNG) written by ``signaux-faibles train``."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from signaux_faibles.contract import ALERT_WORDS

from .results import SEGMENTS, TrainOutput

__all__ = ["PLOTS", "write_report"]

PLOTS = (
    "term_structure",
    "roc",
    "pr",
    "calibration",
    "top_k",
    "thresholds",
    "importance_feature",
    "importance_theme",
    "backtest",
)

_TEMPLATE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Fiche modèle — lot {{ batch }}</title>
<style>
body{font-family:Marianne,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#161616}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}img{max-width:100%}
h2{border-bottom:2px solid #000091;padding-bottom:.2em}.note{color:#555}
</style></head><body>
<h1>Fiche modèle « Signaux Faibles » — lot {{ batch }}</h1>
<p>Cible : entrée en procédure collective (premier jugement) dans les 18 mois. Version du code {{ m.code_version }},
empreinte des données d'apprentissage <code>{{ m.fingerprint }}</code>, {{ m.feature_count }} variables,
entraînement en {{ m.seconds }} s.</p>
{% set smp = m.get("sample") %}{% if smp %}<p id="sample"><strong>Échantillon.</strong> Le panel compte
{{ "{:,}".format(smp.panel_rows) }} lignes ({{ "{:,}".format(smp.panel_companies) }} entreprises), au-delà du réglage
<code>train_max_rows</code> ({{ "{:,}".format(smp.max_rows) }}) : l'apprentissage porte sur toutes les
{{ "{:,}".format(smp.failing_companies) }} entreprises défaillantes et sur les autres tirées au taux de
{{ "%.4f"|format(smp.rate) }} (entreprises entières, graine {{ smp.seed }}), soit {{ "{:,}".format(smp.companies) }} entreprises et
{{ "{:,}".format(smp.rows) }} lignes. La calibration, les seuils et les choix de modèle pondèrent chaque survivante tirée par
{{ "%.2f"|format(smp.survivor_weight) }} (probabilités de la population) ; les chiffres d'évaluation ci-dessous portent sur
la partie représentative (les entreprises tirées sous ce taux, défaillantes ou non : {{ "{:,}".format(smp.representative_test_rows) }}
lignes de test).</p>{% endif %}

<h2>Détection précoce : les entreprises pas encore jugées</h2>
<p class="note">Une entreprise déjà en procédure collective (premier jugement connu) n'est plus un cas de prévention : elle
n'est jamais alertée et ne compte dans aucun des chiffres de cette partie. Les chiffres avec les « signaux forts » viennent
ensuite.</p>
{% set lm = m.get("list_month") %}{% set sel = m.get("selection") %}{% if lm %}
<h3>Au mois de la liste ({{ lm.periode }}, jumeau numérique)</h3>
<p>{{ "{:,}".format(lm.rows) }} entreprises pas encore jugées avec une issue connue, dont {{ lm.failures }} jugées dans les
18 mois (prévalence {{ "%.3f"|format(lm.prevalence) }}) ; AUC-PR de l'oracle {{ "%.3f"|format(lm.get("oracle_auc_pr", nan)) }} ;
{{ "{:,}".format(lm.judged) }} entreprises déjà jugées mises à part.</p>
<table id="early-detection"><tr><th>modèle des listes</th><th>AUC-PR</th><th>prévalence</th><th>ratio à l'oracle</th>
<th>précision / rappel risque élevé</th><th>alertes risque élevé</th><th>précision / rappel risque modéré (et élevé)</th><th>alertes</th></tr>
{% for kind, k in lm.kinds.items() %}<tr><td>{{ kind }}{% if sel and sel.selected == kind %} (publié){% endif %}</td><td>{{ "%.3f"|format(k.auc_pr) }}</td>
<td>{{ "%.3f"|format(lm.prevalence) }}</td><td>{{ "%.2f"|format(k.ratio) }}</td>
<td>{{ "%.2f"|format(k.risque_eleve.precision) }} / {{ "%.2f"|format(k.risque_eleve.recall) }}</td><td>{{ k.risque_eleve.alerts }}</td>
<td>{{ "%.2f"|format(k.risque_modere.precision) }} / {{ "%.2f"|format(k.risque_modere.recall) }}</td><td>{{ k.risque_modere.alerts }}</td></tr>
{% endfor %}</table>{% endif %}
{% if sel %}<h3>Choix du modèle des listes</h3>
<p class="note">Chaque candidat est ajusté comme il le serait pour la liste, puis classe les entreprises pas encore jugées
de la validation (les derniers mois dont l'issue à 18 mois est connue, des entreprises qu'aucun modèle n'a vues).
{% if sel.get("default") %}Les écarts entre candidats y sont souvent plus petits que le bruit de la mesure : le modèle
« {{ sel.default }} » est publié par défaut, et un autre ne le remplace que s'il le bat dans au moins
{{ "%.0f"|format(100 * sel.level) }} % de {{ sel.draws }} tirages des entreprises de la validation.{% endif %}
La régression logistique est la référence : un modèle qu'elle bat n'est jamais publié.</p>
<table id="selection"><tr><th>modèle</th><th>AUC-PR de validation</th><th>bat le modèle par défaut (part des tirages)</th><th>calibration</th><th>seuils F0,5 / F2</th><th></th></tr>
{% for kind, v in sel.scores.items() %}{% set l = m[kind].list_model %}<tr><td>{{ kind }}</td><td>{{ "%.3f"|format(v) }}</td>
<td>{% if kind in sel.get("wins_over_default", {}) %}{{ "%.0f"|format(100 * sel.wins_over_default[kind]) }} %{% else %}–{% endif %}</td>
<td>{{ l.calibration.method }}</td><td>{{ "%.3f"|format(l.thresholds.high) }} / {{ "%.3f"|format(l.thresholds.moderate) }}{% if l.thresholds.get("fallback") %} <strong>(repli : {{ l.thresholds.fallback }})</strong>{% endif %}</td>
<td>{% if sel.selected == kind %}<strong>publié</strong>{% endif %}{% if sel.get("default") == kind %} par défaut{% endif %}{% if kind == "logistic" %} référence{% endif %}</td></tr>
{% endfor %}</table>{% set pm = m.get("payment_member") %}{% if m.get("average") %}<p id="average-members">Le modèle
« average » est la moyenne des log-cotes de : {{ m.average.params.members|join(", ") }}.{% if pm %} Le membre « payment » est une
régression logistique sur les seuls comportements de paiement et la taille ({{ pm.columns|join(", ") }} ; AUC-PR de validation
{{ "%.3f"|format(pm.valid_auc_pr) }}) : une crise décale le paydex de toutes les entreprises et change le sens des dettes et de
l'activité partielle ; ce membre garde son classement sous un tel changement, que la validation des mois étiquetés ne peut pas
voir. Il n'est pas candidat seul.{% endif %}</p>{% endif %}{% endif %}
{% set th = m.get("themes") %}{% if th and th.get("steps") %}<p>Thèmes retenus pour les modèles des listes (sélection pas à pas,
AUC-PR sur les entreprises de validation et de calibration) : <strong>{{ th.themes|join(", ") }}</strong> ({{ th.columns }} variables sur {{ th.all_columns }} ;
AUC-PR {{ "%.3f"|format(th.auc_pr) }}, tous les thèmes {{ "%.3f"|format(th.all_themes_auc_pr) }}).</p>{% endif %}
{% set ts = m.get("term_structure") %}{% if ts %}<h3>Structure par terme ({{ ts.periode }})</h3>
<p class="note">Probabilité moyenne d'un premier jugement dans les 3, 6, 12 et 18 mois, par niveau d'alerte du modèle publié,
entreprises pas encore jugées. La forme vient du modèle à risques instantanés (les risques de chaque intervalle composés :
1 − ∏(1 − h)), son point à 18 mois est la probabilité affichée.</p>
<table id="term-structure"><tr><th>niveau</th><th>entreprises</th><th>3 mois</th><th>6 mois</th><th>12 mois</th><th>18 mois</th></tr>
{% for level, r in ts.levels.items() %}<tr><td>{{ labels.get(level, level) }}</td><td>{{ "{:,}".format(r.firms) }}</td>
<td>{{ "%.3f"|format(r.probability_3m) }}</td><td>{{ "%.3f"|format(r.probability_6m) }}</td><td>{{ "%.3f"|format(r.probability_12m) }}</td><td>{{ "%.3f"|format(r.probability_18m) }}</td></tr>
{% endfor %}</table>
<img alt="structure par terme" id="plot-term_structure" src="data:image/png;base64,{{ plots.term_structure }}">{% endif %}
{% set hz = m.get("hazard") %}{% if hz %}<p>Modèle à risques instantanés : {% for i in hz.list_model.intervals %}mois {{ i.months }} :
{{ "{:,}".format(i.rows) }} lignes à risque, {{ i.events }} jugements{% if not loop.last %} ; {% endif %}{% endfor %}
(lignes censurées comprises : les mois récents n'apprennent que les intervalles courts).</p>{% endif %}
<h3>Test sans signaux forts (modèle évalué, entraîné 18 mois avant le test)</h3>
<table id="test-early"><tr><th>modèle</th><th>lignes</th><th>prévalence</th><th>AUC-PR</th>{% if twin %}<th>ratio à l'oracle</th>{% endif %}
<th>précision / rappel risque élevé</th><th>alertes</th><th>précision / rappel risque modéré</th><th>alertes</th></tr>
{% for kind in kinds %}{% set t = m[kind].test.without_signaux_forts %}<tr><td>{{ kind }}</td><td>{{ "{:,}".format(t.rows) }}</td>
<td>{{ "%.3f"|format(t.prevalence) }}</td><td>{{ "%.3f"|format(t.auc_pr) }}</td>{% if twin %}<td>{{ "%.2f"|format(t.oracle_ratio_auc_pr) }}</td>{% endif %}
<td>{{ "%.2f"|format(t.risque_eleve.precision) }} / {{ "%.2f"|format(t.risque_eleve.recall) }}</td><td>{{ t.risque_eleve.alerts }}</td>
<td>{{ "%.2f"|format(t.risque_modere.precision) }} / {{ "%.2f"|format(t.risque_modere.recall) }}</td><td>{{ t.risque_modere.alerts }}</td></tr>
{% endfor %}</table>

<h2>Données et échantillons</h2>
<p class="note">Entreprises du périmètre, une ligne par (SIREN, mois). Les entreprises du test n'apparaissent dans aucune
autre partie (partition par SIREN) et le test est postérieur : l'apprentissage s'arrête 18 mois avant le début du test.</p>
<table><tr><th>partie</th><th>de</th><th>à</th><th>lignes</th><th>entreprises</th><th>défaillances</th><th>prévalence</th></tr>
{% for name, d in m.splits.items() %}<tr><td>{{ {"fit": "apprentissage", "valid": "validation (hyper-paramètres, seuils)", "calib": "calibration", "test": "test"}[name] }}</td>
<td>{{ d["from"] }}</td><td>{{ d["to"] }}</td><td>{{ "{:,}".format(d.rows) }}</td><td>{{ "{:,}".format(d.companies) }}</td><td>{{ d.positives }}</td><td>{{ "%.3f"|format(d.prevalence) }}</td></tr>
{% endfor %}</table>
{% set lm = m[kinds[0]].get("list_model") %}{% if lm %}
<h3>Modèle des listes</h3>
<p class="note">Le modèle évalué ci-dessous s'arrête 18 mois avant le test : il serait vieux de plus de trois ans le jour de
la liste. Les listes utilisent donc la même configuration (hyper-paramètres choisis sur la validation) réentraînée sur
les douze derniers mois dont l'issue est connue ; d'autres entreprises, sur ces mêmes mois, la calibrent et fixent ses
seuils. Ses performances attendues sont celles du test ci-dessous (même configuration).</p>
<table><tr><th>modèle</th><th>partie</th><th>de</th><th>à</th><th>lignes</th><th>entreprises</th><th>défaillances</th><th>calibration</th><th>seuils F0,5 / F2</th><th>AUC-PR (entreprises réservées)</th></tr>
{% for kind in kinds %}{% set l = m[kind].list_model %}{% for name, d in l.parts.items() %}
<tr><td>{{ kind }}</td><td>{{ {"fit": "apprentissage", "valid": "seuils", "calib": "calibration"}[name] }}</td><td>{{ d["from"] }}</td><td>{{ d["to"] }}</td>
<td>{{ "{:,}".format(d.rows) }}</td><td>{{ "{:,}".format(d.companies) }}</td><td>{{ d.positives }}</td>
<td>{% if loop.first %}{{ l.calibration.method }}{% endif %}</td><td>{% if loop.first %}{{ "%.2f"|format(l.thresholds.high) }} / {{ "%.2f"|format(l.thresholds.moderate) }}{% endif %}</td>
<td>{% if loop.first %}{{ "%.3f"|format(l.valid_auc_pr) }}{% endif %}</td></tr>
{% endfor %}{% endfor %}</table>{% endif %}

<h2>Performances sur le test</h2>
{% for kind in kinds %}{% set k = m[kind] %}
<h3>{{ {"lightgbm": "LightGBM (modèle de production)", "logistic": "Régression logistique (modèle interprétable)"}[kind] }}</h3>
<p>Hyper-paramètres choisis sur la validation : <code>{{ k.params }}</code>; calibration {{ k.calibration.method }};
seuils : risque élevé (F0,5) {{ "%.2f"|format(k.thresholds.high) }}, risque modéré (F2) {{ "%.2f"|format(k.thresholds.moderate) }}.{% if k.thresholds.get("fallback") %} <strong>Seuils F-optimaux dégénérés, règle de repli appliquée : {{ k.thresholds.get("fallback") }}.</strong>{% endif %}</p>
<table><tr><th>échantillon</th><th>lignes</th><th>prévalence</th><th>AUC-ROC</th><th>AUC-PR</th><th>Brier</th>
<th>précision / rappel risque élevé</th><th>précision / rappel risque modéré</th>{% if twin %}<th>AUC-PR oracle</th><th>ratio modèle / oracle</th><th>AUC-PR oracle sans futur</th><th>ratio modèle / oracle sans futur</th><th>ratio mois par mois</th>{% endif %}</tr>
{% for name in ["without_signaux_forts", "with_signaux_forts"] %}{% set t = k.test[name] %}
<tr><td>{{ {"with_signaux_forts": "avec signaux forts", "without_signaux_forts": "sans signaux forts"}[name] }}</td>
<td>{{ "{:,}".format(t.rows) }}</td><td>{{ "%.3f"|format(t.prevalence) }}</td><td>{{ "%.3f"|format(t.auc_roc) }}</td><td>{{ "%.3f"|format(t.auc_pr) }}</td><td>{{ "%.4f"|format(t.brier) }}</td>
<td>{{ "%.2f"|format(t.risque_eleve.precision) }} / {{ "%.2f"|format(t.risque_eleve.recall) }} ({{ t.risque_eleve.alerts }} alertes)</td>
<td>{{ "%.2f"|format(t.risque_modere.precision) }} / {{ "%.2f"|format(t.risque_modere.recall) }} ({{ t.risque_modere.alerts }} alertes)</td>
{% if twin %}<td>{{ "%.3f"|format(t.oracle_auc_pr) }}</td><td>{{ "%.2f"|format(t.oracle_ratio_auc_pr) }}</td>
<td>{{ "%.3f"|format(t.get("oracle_now_auc_pr", nan)) }}</td><td>{{ "%.2f"|format(t.get("oracle_now_ratio_auc_pr", nan)) }}</td><td>{{ "%.2f"|format(t.get("oracle_monthly_ratio_auc_pr", nan)) }}</td>{% endif %}</tr>
{% endfor %}</table>
{% if twin %}<p class="note">Oracle : la probabilité exacte du jumeau numérique (état caché connu), qui propage le futur réel
(chocs sectoriels, régime de crise) ; « sans futur » : la même avec les conditions du mois maintenues, soit la meilleure
prévision possible à la date. Entreprises déjà en procédure : probabilité 1. « Mois par mois » : moyenne des AUC-PR
calculées dans chaque mois du test (le classement de chaque liste mensuelle), modèle / oracle.</p>{% endif %}
<p>Top-k (sans signaux forts) :</p>
<table><tr><th>part de la liste</th><th>k</th><th>précision</th><th>rappel</th></tr>
{% for r in k.test.without_signaux_forts.top_k %}<tr><td>{{ "%.0f"|format(100 * r.top_share) }} %</td><td>{{ r.k }}</td><td>{{ "%.3f"|format(r.precision) }}</td><td>{{ "%.3f"|format(r.recall) }}</td></tr>{% endfor %}
</table>
{% endfor %}

<h2>Courbes (LightGBM, test)</h2>
{% for name in ["roc", "pr", "calibration", "top_k", "thresholds"] %}<img alt="{{ name }}" id="plot-{{ name }}" src="data:image/png;base64,{{ plots[name] }}">
{% endfor %}

<h2>Importance globale (moyenne des |contributions|, LightGBM)</h2>
<img alt="importance par variable" id="plot-importance_feature" src="data:image/png;base64,{{ plots.importance_feature }}">
<img alt="importance par thème" id="plot-importance_theme" src="data:image/png;base64,{{ plots.importance_theme }}">

<h2>Performances par segment (LightGBM, test sans signaux forts)</h2>
{% for col, rows in m.lightgbm.test.segments.items() %}<h3>{{ segment_labels[col] }}</h3>
<table><tr><th>segment</th><th>lignes</th><th>prévalence</th><th>AUC-ROC</th><th>AUC-PR</th><th>rappel risque élevé</th><th>rappel risque modéré</th></tr>
{% for r in rows %}<tr><td>{{ r.segment }}</td><td>{{ "{:,}".format(r.rows) }}</td><td>{{ "%.3f"|format(r.prevalence) }}</td><td>{{ "%.3f"|format(r.auc_roc) }}</td><td>{{ "%.3f"|format(r.auc_pr) }}</td><td>{{ "%.2f"|format(r.recall_high) }}</td><td>{{ "%.2f"|format(r.recall_moderate) }}</td></tr>{% endfor %}
</table>{% endfor %}

<h2>Backtest : listes faites à des dates passées</h2>
<p class="note">Pour chaque date, le modèle est réentraîné sur ce qui était connu alors (mois ≤ date − 18), note les entreprises
de ce mois (hors signaux forts), et la liste est comparée à ce qui s'est passé dans les 18 mois.</p>
<table><tr><th>liste du</th><th>apprentissage jusqu'à</th><th>entreprises</th><th>défaillances à 18 mois</th><th>AUC-ROC</th><th>AUC-PR</th><th>précision top 5 %</th><th>rappel top 5 %</th></tr>
{% for r in m.backtest %}<tr><td>{{ r.as_of }}</td><td>{{ r.trained_to }}</td><td>{{ "{:,}".format(r.companies) }}</td><td>{{ r.failed_within_18m }}</td><td>{{ "%.3f"|format(r.auc_roc) }}</td><td>{{ "%.3f"|format(r.auc_pr) }}</td><td>{{ "%.3f"|format(r.top5_precision) }}</td><td>{{ "%.3f"|format(r.top5_recall) }}</td></tr>{% endfor %}
</table>
<img alt="backtest" id="plot-backtest" src="data:image/png;base64,{{ plots.backtest }}">
</body></html>
"""


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(out: TrainOutput) -> dict[str, str]:
    """Every plot of the model card, as base64 PNG, by name."""
    import matplotlib

    matplotlib.use("Agg")
    m, c = out.metrics, out.curves
    plotters: dict[str, Callable[[dict[str, Any], dict[str, Any]], Any]] = {
        "roc": _roc, "pr": _pr, "calibration": _calibration, "top_k": _top_k, "thresholds": _thresholds,
        "importance_feature": _importance_feature, "importance_theme": _importance_theme,
        "backtest": _backtest, "term_structure": _term_structure,
    }  # fmt: skip
    return {name: _png(plot(m, c)) for name, plot in plotters.items()}


def _roc(m: dict[str, Any], c: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    fig, ax = plt.subplots(figsize=(5, 4))
    for kind, style in (("lightgbm", "-"), ("logistic", "--")):
        y, p = c[kind]["y"], c[kind]["p"]
        if len(np.unique(y)) == 2:
            fpr, tpr, _ = roc_curve(y, p)
            ax.plot(
                fpr, tpr, style, label=f"{kind} (AUC {m[kind]['test']['with_signaux_forts']['auc_roc']:.3f})"
            )
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set(xlabel="taux de faux positifs", ylabel="taux de vrais positifs", title="ROC (test)")
    ax.legend()
    return fig


def _pr(m: dict[str, Any], c: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    fig, ax = plt.subplots(figsize=(5, 4))
    lgb = c["lightgbm"]
    for kind, style in (("lightgbm", "-"), ("logistic", "--")):
        y, p = c[kind]["y"], c[kind]["p"]
        if y.sum():
            prec, rec, _ = precision_recall_curve(y, p)
            ax.plot(rec, prec, style, label=kind)
    for key, label in (("oracle", "oracle (jumeau)"), ("oracle_now", "oracle sans futur (jumeau)")):
        if key in lgb and lgb["y"].sum():
            prec, rec, _ = precision_recall_curve(lgb["y"], lgb[key])
            ax.plot(rec, prec, ":", label=label)
    ax.axhline(float(lgb["y"].mean()) if len(lgb["y"]) else 0, color="grey", lw=0.8, label="prévalence")
    ax.set(xlabel="rappel", ylabel="précision", title="Précision-rappel (test)")
    ax.legend()
    return fig


def _calibration(m: dict[str, Any], c: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    for kind, marker in (("lightgbm", "o"), ("logistic", "s")):
        rel = m[kind]["test"]["reliability"]
        ax.plot([r["mean_predicted"] for r in rel], [r["observed"] for r in rel], marker=marker, label=kind)
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set(
        xlabel="probabilité prédite (moyenne du décile)",
        ylabel="fréquence observée",
        title="Calibration (test)",
    )
    ax.legend()
    return fig


def _top_k(m: dict[str, Any], c: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    top = m["lightgbm"]["test"]["without_signaux_forts"]["top_k"]
    xs = np.arange(len(top))
    ax.bar(xs - 0.2, [r["precision"] for r in top], 0.4, label="précision")
    ax.bar(xs + 0.2, [r["recall"] for r in top], 0.4, label="rappel")
    ax.set_xticks(xs, [f"top {100 * r['top_share']:.0f} %" for r in top])
    ax.set(title="Top-k (test, sans signaux forts)")
    ax.legend()
    return fig


def _thresholds(m: dict[str, Any], c: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    val = m["lightgbm"]["validation"]
    th = [r["threshold"] for r in val["f05"]]
    ax.plot(th, [r["fbeta"] for r in val["f05"]], label="F0,5")
    ax.plot(th, [r["fbeta"] for r in val["f2"]], label="F2")
    ax.plot(th, [r["precision"] for r in val["f05"]], ":", label="précision")
    ax.plot(th, [r["recall"] for r in val["f05"]], ":", label="rappel")
    t = m["lightgbm"]["thresholds"]
    ax.axvline(t["high"], color="red", lw=0.8)
    ax.axvline(t["moderate"], color="orange", lw=0.8)
    ax.set(xlabel="seuil", title="Seuils (validation) : rouge F0,5, orange F2")
    ax.legend()
    return fig


def _importance_feature(m: dict[str, Any], c: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    feats = list(m["lightgbm"]["importance"]["feature"].items())[:20][::-1]
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.barh([k for k, _ in feats], [v for _, v in feats])
    ax.set(title="Importance par variable (20 premières)")
    return fig


def _importance_theme(m: dict[str, Any], c: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    themes = list(m["lightgbm"]["importance"]["theme"].items())[::-1]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh([k for k, _ in themes], [v for _, v in themes])
    ax.set(title="Importance par thème")
    return fig


def _backtest(m: dict[str, Any], c: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    bt = m["backtest"]
    ax.plot([r["as_of"] for r in bt], [r["auc_pr"] for r in bt], marker="o", label="AUC-PR")
    ax.plot([r["as_of"] for r in bt], [r["prevalence"] for r in bt], marker="x", label="prévalence")
    ax.set(title="Backtest")
    ax.legend()
    return fig


def _term_structure(m: dict[str, Any], c: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    ts = m.get("term_structure")
    fig, ax = plt.subplots(figsize=(5, 3))
    if ts:
        for level, r in ts["levels"].items():
            ax.plot([3, 6, 12, 18], [r["probability_3m"], r["probability_6m"], r["probability_12m"],
                                     r["probability_18m"]], marker="o", label=ALERT_WORDS.get(level, level))  # fmt: skip
        ax.legend()
    ax.set(xlabel="mois", ylabel="probabilité moyenne", title="Structure par terme (pas encore jugées)")
    return fig


def write_report(out: TrainOutput, path: Path, *, batch: str, ground_truth: bool) -> Path:
    """Render the model card to ``path`` (one HTML file, plots embedded)."""
    import jinja2


    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    html = env.from_string(_TEMPLATE).render(
        batch=batch, m=out.metrics, kinds=["lightgbm", "logistic"], plots=_plots(out), twin=ground_truth,
        labels=ALERT_WORDS,
        segment_labels=SEGMENTS,
        nan=float("nan"),
    )  # fmt: skip
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
